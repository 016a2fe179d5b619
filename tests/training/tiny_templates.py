"""Chat templates of real models, given to the tiny test model (tests/training/conftest.py: `tiny_mistral`)."""

# Mistral-7B-Instruct-v0.2's chat template (its tokenizer_config.json): no system role, strict user/assistant
# alternation, `raise_exception` on anything else.
MISTRAL_V02_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
