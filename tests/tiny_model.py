"""Build a tiny T5 (tokenizer + weights) on disk, for tests and benchmarks.

It is saved with ``save_pretrained`` and loaded back through the production loader, so the
tests exercise the real seq2seq path (AutoTokenizer, AutoModelForSeq2SeqLM, generate) with a
model that takes seconds to build. Its output is noise: tests assert structure, not content.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

# Text of our own to train the tokenizer on, plus the seed article kept under tests/.
_TRAINING_TEXT = """
The city council approved a new budget on Tuesday after a long debate about schools.
Officials said the plan would add 2,000 teachers by 2026 and cost about $1.5 billion.
Heavy rain flooded roads in the north, and emergency crews rescued 12 people overnight.
The company reported a 15% rise in profit, beating what analysts had expected.
Scientists found that the new vaccine protected nine in ten people in a trial of 40,000.
The minister resigned on Friday, saying she wanted to spend more time with her family.
Fans waited for hours outside the stadium before the final match of the season.
"We will keep working until every family has a safe home," the mayor said in a statement.
Prices of food and energy rose again in March, pushing inflation to 4.2 percent.
A spokesman for the airline said all flights would resume on Monday morning.
""".strip()


def build_tiny_t5(directory: Path, *, seed: int = 0, vocab_size: int = 256) -> Path:
    """Train a small sentencepiece model, make a 2-layer T5, save both into ``directory``."""
    import sentencepiece as spm
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5TokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    seed_article = (HERE / "seed_article.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in (_TRAINING_TEXT + "\n" + seed_article).splitlines()]
    lines = [line.replace("\xa0", " ") for line in lines if line.strip()]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines * 3),
        model_prefix=str(directory / "spiece"),
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        minloglevel=2,
    )
    # T5TokenizerFast.from_pretrained on the folder: T5Tokenizer(vocab_file=...) would build a
    # 4-token vocabulary in transformers 5.
    tokenizer = T5TokenizerFast.from_pretrained(str(directory), extra_ids=0)
    config = T5Config(
        vocab_size=len(tokenizer), d_model=32, d_ff=64, d_kv=16, num_heads=2,
        num_layers=2, num_decoder_layers=2, decoder_start_token_id=0,
        pad_token_id=0, eos_token_id=1,
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
