"""Build tiny, offline models for tests, the demo and benchmarks: `python -m training.tiny --out DIR`.

Nothing can be downloaded here, so the tiny models are built from configs with seeded random weights and
tokenizers trained with `tokenizers` on a small built-in corpus (plus optional extra text). The layout is a
stable contract other parts of the kit rely on (eval/, benchmarks, the Makefile demo):

    DIR/tiny-llama/     LlamaForCausalLM (hidden 64), byte-level BPE tokenizer, chat template with
                        `{% generation %}` markers (TRL's `assistant_only_loss` needs them), EOS = `<|end|>`
    DIR/tiny-encoder/   BertModel (hidden 64) + WordPiece tokenizer for sequence classification

`--corpus REDDITESS_FOLDER` also trains the tokenizers on the dataset's texts (shorter sequences, faster
CPU runs). Both load with `from_pretrained(path)` and are small enough to train a few steps in about a second on CPU.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

LLAMA_DIRNAME = "tiny-llama"
ENCODER_DIRNAME = "tiny-encoder"

# The chat template of the tiny causal LM. Every turn ends with the EOS token `<|end|>`, so a generation that
# reproduces the assistant turn stops by itself; the `{% generation %}` markers let TRL compute the
# assistant-only loss mask.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|assistant|>\n' }}{% generation %}{{ message['content'] + '<|end|>' }}{% endgeneration %}"
    "{%- else -%}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|assistant|>\n' }}{%- endif -%}"
)

LLAMA_SPECIAL_TOKENS = ["<pad>", "<s>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
ENCODER_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# A small built-in corpus in the register of peer-support threads, so the BPE merges are plausible words.
_BASE_CORPUS = [
    "I have been feeling anxious and alone for weeks and I do not know who to talk to.",
    "Thank you so much, this really helped me feel less alone tonight.",
    "It sounds like you are carrying a lot right now, and it makes sense that you feel overwhelmed.",
    "Have you been able to talk to a therapist or a doctor about the panic attacks?",
    "Something that helped me was a breathing exercise: breathe in for four, hold, breathe out for six.",
    "You are not alone in this. Many of us here have felt the same way and things did get better.",
    "My depression makes it hard to get out of bed, work feels impossible and I keep cancelling plans.",
    "I am proud of you for posting. Reaching out is hard and you did it.",
    "Please consider calling a crisis line if you feel unsafe; you deserve support right now.",
    "Update: I talked to my sister and she listened. Thanks everyone for the kind words.",
    "Stress at school is crushing me, exams are next week and I cannot sleep.",
    "Writing down three small things each day helped me notice moments that were okay.",
    "Your feelings are valid. PTSD can make ordinary days feel dangerous.",
    "Try to be gentle with yourself, recovery is not a straight line.",
]


def dataset_corpus(folder: Path, limit: int = 5000) -> list[str]:
    """Post and comment texts of a RedditESS folder's train split, so the tiny tokenizer fits the data.

    A tokenizer trained only on the built-in corpus splits unseen words into many byte pieces, which makes
    sequences (and CPU training) several times longer.
    """
    import pyarrow.parquet as pq

    texts: list[str] = []
    for parquet in sorted(Path(folder).glob("data/*/train-*.parquet")):
        names = pq.read_schema(parquet).names
        cols = [c for c in ("post_title", "post_text", "comment_text") if c in names]
        if not cols:
            continue
        table = pq.read_table(parquet, columns=cols)
        for col in cols:
            texts.extend(t for t in table.column(col).to_pylist() if t)
        if len(texts) >= limit:
            break
    if not texts:
        raise ValueError(
            f"{folder}: no data/*/train-*.parquet with post/comment text to train a tokenizer on"
        )
    return texts[:limit]


def default_corpus(extra: Iterable[str] = ()) -> list[str]:
    """The built-in corpus plus any extra text (e.g. posts of a dataset), so the tokenizer covers its words."""
    return list(_BASE_CORPUS) * 4 + [t for t in extra if t]


@dataclass
class TinyConfig:
    """Sizes of the tiny models; the defaults train 10 SFT/DPO steps in about a second on CPU."""

    hidden_size: int = 64
    intermediate_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    vocab_size: int = 1024
    max_position_embeddings: int = 1024
    seed: int = 0
    extra_text: list[str] = field(default_factory=list)


def _atomic_dir(final: Path) -> Path:
    """A temporary sibling directory; `_commit_dir` renames it to `final` once fully written."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))


def _commit_dir(tmp: Path, final: Path) -> None:
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


def build_tiny_llama(out: Path, cfg: TinyConfig | None = None) -> Path:
    """Write a tiny LlamaForCausalLM with a trained byte-level BPE tokenizer and a chat template to `out`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    cfg = cfg or TinyConfig()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=cfg.vocab_size,
        special_tokens=LLAMA_SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(default_corpus(cfg.extra_text), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="<|end|>",
        pad_token="<pad>",
        additional_special_tokens=LLAMA_SPECIAL_TOKENS[3:],
        model_max_length=cfg.max_position_embeddings,
        padding_side="right",
        add_bos_token=False,
        add_eos_token=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE

    torch.manual_seed(cfg.seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads,
        max_position_embeddings=cfg.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    tmp = _atomic_dir(out)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    _commit_dir(tmp, out)
    logger.info("tiny causal LM written to %s (%d parameters)", out, model.num_parameters())
    return out


def build_tiny_encoder(out: Path, cfg: TinyConfig | None = None) -> Path:
    """Write a tiny BERT-like encoder with a trained WordPiece tokenizer (pairs: [CLS] a [SEP] b [SEP])."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    cfg = cfg or TinyConfig()
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=cfg.vocab_size, special_tokens=ENCODER_SPECIAL_TOKENS, show_progress=False
    )
    tok.train_from_iterator(default_corpus(cfg.extra_text), trainer=trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        model_max_length=512,
    )
    torch.manual_seed(cfg.seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertModel(config)
    tmp = _atomic_dir(out)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    _commit_dir(tmp, out)
    logger.info("tiny encoder written to %s (%d parameters)", out, model.num_parameters())
    return out


def build_all(out: Path, cfg: TinyConfig | None = None) -> dict[str, Path]:
    """Build both tiny models under `out` and return their paths by name."""
    out = Path(out)
    return {
        LLAMA_DIRNAME: build_tiny_llama(out / LLAMA_DIRNAME, cfg),
        ENCODER_DIRNAME: build_tiny_encoder(out / ENCODER_DIRNAME, cfg),
    }


@dataclass
class TinyArguments:
    """Command line of `python -m training.tiny`."""

    out: str = field(metadata={"help": "Directory receiving tiny-llama/ and tiny-encoder/."})
    seed: int = field(default=0, metadata={"help": "Seed of the random weights."})
    corpus: str | None = field(
        default=None,
        metadata={"help": "A RedditESS folder whose train texts the tokenizers also learn from."},
    )
    vocab_size: int = field(default=1024, metadata={"help": "Target vocabulary size of both tokenizers."})


def main(argv: list[str] | None = None) -> dict[str, Path]:
    from transformers import HfArgumentParser

    (args,) = HfArgumentParser(TinyArguments).parse_args_into_dataclasses(args=argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    extra = dataset_corpus(Path(args.corpus)) if args.corpus else []
    paths = build_all(
        Path(args.out), TinyConfig(seed=args.seed, vocab_size=args.vocab_size, extra_text=extra)
    )
    for name, path in paths.items():
        print(f"{name}: {path}")
    return paths


if __name__ == "__main__":
    main()
