"""Arena's fine-tuning on the field's engines: TRL ``SFTTrainer`` + ``accelerate`` + PEFT.

``sft`` builds the trainer from a recipe, ``callbacks`` carries Arena's job semantics (progress, metrics,
cancel, fault injection) as a ``TrainerCallback``, ``chat_template`` gives tokenizers the
``{% generation %}`` markers assistant-only loss needs, ``accelerate_config`` validates the shipped and
user-supplied accelerate config files, ``launcher`` runs a job under ``accelerate launch``.
"""
