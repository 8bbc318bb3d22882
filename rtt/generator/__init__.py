"""The built-in prompt generator: prompts whose rubric items are all verifiable (rule-graded).

- `builtin`: the generator (`generate_prompts`, `split_prompts`) and the compatibility tests.
- `instructions`: the instruction table (`SPECS`) and the conflict tables.
- `vocabulary`: the tasks, topics and word pools prompts are made of.
"""
