"""Build tiny seq2seq models (tokenizer + weights) on disk, for tests and benchmarks: T5, and
one of each other family the service knows (BART, PEGASUS, mT5; ``build_tiny``).

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


# Lines in other languages, for the multilingual (mT5) tokenizer.
_MULTILINGUAL_TEXT = """
Le conseil municipal a approuvé mardi un nouveau budget après un long débat sur les écoles.
Der Stadtrat hat am Dienstag nach langer Debatte einen neuen Haushalt beschlossen.
El ayuntamiento aprobó el martes un nuevo presupuesto tras un largo debate sobre escuelas.
Городской совет во вторник одобрил новый бюджет после долгих споров о школах.
""".strip()

FAMILIES = ("t5", "bart", "pegasus", "mt5")


def _lines(multilingual: bool = False) -> list[str]:
    seed_article = (HERE / "seed_article.txt").read_text(encoding="utf-8")
    text = _TRAINING_TEXT + "\n" + seed_article
    if multilingual:
        text += "\n" + _MULTILINGUAL_TEXT
    lines = [line.strip().replace("\xa0", " ") for line in text.splitlines()]
    return [line for line in lines if line]


def _train_sentencepiece(directory: Path, lines: list[str], vocab_size: int) -> None:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines * 3), model_prefix=str(directory / "spiece"),
        vocab_size=vocab_size, hard_vocab_limit=False, model_type="unigram",
        character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, minloglevel=2,
    )


def build_tiny_mt5(directory: Path, *, seed: int = 0, vocab_size: int = 320) -> Path:
    """A 2-layer mT5 (model_type mt5, untied lm_head as mT5 has) with a multilingual
    sentencepiece tokenizer."""
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration, T5TokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    _train_sentencepiece(directory, _lines(multilingual=True), vocab_size)
    tokenizer = T5TokenizerFast.from_pretrained(str(directory), extra_ids=0)
    config = MT5Config(
        vocab_size=len(tokenizer), d_model=32, d_ff=64, d_kv=16, num_heads=2, num_layers=2,
        num_decoder_layers=2, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    MT5ForConditionalGeneration(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_tiny_pegasus(directory: Path, *, seed: int = 0, vocab_size: int = 256) -> Path:
    """A 2-layer PEGASUS (sinusoidal positions up to 1,024) with its sentencepiece tokenizer
    (103 reserved mask tokens ahead of the pieces, as PEGASUS has)."""
    import torch
    from transformers import PegasusConfig, PegasusForConditionalGeneration, PegasusTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    _train_sentencepiece(directory, _lines(), vocab_size)
    tokenizer = PegasusTokenizerFast.from_pretrained(str(directory), model_max_length=1024)
    config = PegasusConfig(
        vocab_size=len(tokenizer), d_model=32, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_position_embeddings=1024, pad_token_id=0, eos_token_id=1,
        decoder_start_token_id=0,
        # as google/pegasus-xsum's config.json says (CTranslate2's converter reads it)
        normalize_before=True, add_final_layer_norm=True, normalize_embedding=False,
        static_position_embeddings=True,
    )
    torch.manual_seed(seed)
    PegasusForConditionalGeneration(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_tiny_bart(directory: Path, *, seed: int = 0, vocab_size: int = 400) -> Path:
    """A 2-layer BART (learned positions up to 1,024) with a byte-level BPE tokenizer trained
    here, saved as BART's (RobertaTokenizer: <s> text </s>)."""
    import json

    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import BartConfig, BartForConditionalGeneration, BartTokenizer

    directory.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(_lines(), vocab_size=vocab_size, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    merges = json.loads(bpe._tokenizer.to_str())["model"]["merges"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in merges]
    tokenizer = BartTokenizer(vocab=bpe.get_vocab(), merges=merges, model_max_length=1024)
    config = BartConfig(
        vocab_size=len(tokenizer), d_model=32, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_position_embeddings=1024, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, decoder_start_token_id=2,
        # as facebook/bart-large-cnn's config.json says (CTranslate2's converter reads it)
        normalize_before=False, add_final_layer_norm=False, normalize_embedding=True,
    )
    torch.manual_seed(seed)
    BartForConditionalGeneration(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_tiny(family: str, directory: Path, *, seed: int = 0) -> Path:
    """A tiny model of ``family`` (one of ``FAMILIES``) in ``directory``."""
    builders = {"t5": build_tiny_t5, "bart": build_tiny_bart, "pegasus": build_tiny_pegasus,
                "mt5": build_tiny_mt5}
    return builders[family](directory, seed=seed)
