"""Word tables the checker reads claims with: number words, months, currencies, name stop words,
equivalent place names.
"""

from __future__ import annotations

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_ORDINAL_UNITS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
}
_ORDINAL_TENS = {
    "twentieth": 20,
    "thirtieth": 30,
    "fortieth": 40,
    "fiftieth": 50,
    "sixtieth": 60,
    "seventieth": 70,
    "eightieth": 80,
    "ninetieth": 90,
}
_MULTIPLIERS = {
    "hundred": 100,
    "thousand": 1000,
    "million": 10**6,
    "billion": 10**9,
    "trillion": 10**12,
}
_SCALES = {
    "thousand": 1000,
    "k": 1000,
    "million": 10**6,
    "m": 10**6,
    "mn": 10**6,
    "mln": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "trillion": 10**12,
    "tn": 10**12,
    "trn": 10**12,
}
# Words too idiomatic to be claims ("one of", "first time", "a second"); they still support.
_NOT_CLAIMS = {"one", "first", "second", "zero"}

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_MONTH_ABBR = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# Full month names that are also ordinary words; they count as months only next to a number.
_AMBIGUOUS_MONTHS = {"may", "march"}

_CURRENCY_SYMBOLS = {"£": "GBP", "#": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR", "$": "$"}
_CURRENCY_WORDS = {
    "pound": "GBP",
    "pounds": "GBP",
    "sterling": "GBP",
    "euro": "EUR",
    "euros": "EUR",
    "dollar": "$",
    "dollars": "$",
    "yen": "JPY",
    "rupees": "INR",
    "rupee": "INR",
}

# Titles and function words that are capitalized without being (part of) a name.
_NAME_STOP = frozenset(
    """
    mr mrs ms miss mx dr prof sir dame lord lady rev revd fr st jr sr jnr snr
    sgt cpl pte lt col gen capt maj det insp supt cllr
    the a an i it he she we they you his her its our their my your me him them us
    this that these those there here what who whom whose which where when why how
    in on at for but and or nor if as after before while with by from to of off so yet not no
    yes also however meanwhile now then today yesterday tomorrow tonight last next
    all some many most more any each every both either neither one other another
    is are was were be been being has have had do does did will would can could shall should
    may might must says said according despite although though because since until unless
    during under over into onto about above below between among against without within
    new old former ex top unk oh ah hey wow ok okay please thanks sorry dear
    read watch click here video pictured scroll see exclusive update breaking
    """.split()
)
# Capitalized sentence openers that are ordinary words even when the source lacks them.
_COMMON_OPENERS = frozenset(
    """
    police officials officers researchers scientists experts doctors critics fans residents
    witnesses authorities investigators prosecutors protesters campaigners analysts ministers
    lawmakers judges jurors teachers parents children kids students workers staff families
    victims survivors players coaches managers bosses owners users customers voters leaders
    people men women girls boys mother father son daughter wife husband brother sister
    study report survey research figures data results tests images photos pictures video
    footage documents records reports plans talks officials' troops soldiers rebels
    both several few others such only even just still instead nearly almost around about
    more less than most half once twice again already soon later earlier recently currently
    meanwhile however although though while whilst because since despite following
    midfielder striker defender goalkeeper keeper forward winger opener bowler batsman manager
    boss coach captain star singer actor actress president chancellor senator governor mayor
    judge interim veteran world premiership prince princess king queen duke duchess pair
    """.split()
)
# Endings of common words that a sentence-initial capitalized word is unlikely to be a name with.
_COMMON_ENDINGS = (
    "ing",
    "ed",
    "ly",
    "tion",
    "sion",
    "ment",
    "ness",
    "ity",
    "ous",
    "ful",
    "ive",
    "able",
    "ible",
    "ance",
    "ence",
    "ist",
    "ists",
    "ism",
    "ers",
    "s",
)
# Words that typically follow a name in subject position.
_SUBJECT_VERBS = frozenset(
    """
    is was has had have will would could can may might must should did does says said told
    wants won beat scored insists admits added claims denies
    """.split()
)
_VERB_ENDINGS = ("ed", "s")
# Lower-case words allowed inside a multi-token name ("Bank of England", "Leonardo da Vinci").
_NAME_CONNECTORS = frozenset("of de da di del della der den van von la le du al bin el y".split())

# Never part of a name: a model's unknown-word marker and number words (checked as numbers).
_NEVER_NAMES = frozenset(
    ["unk", *_UNITS, *_TENS, *_ORDINAL_UNITS, *_ORDINAL_TENS, *_MULTIPLIERS, "dozen"]
)


# Groups of interchangeable place/demonym phrases: "British" is supported by "UK" and vice versa.
_EQUIVALENT_GROUPS = [
    "uk, britain, british, briton, britons, united kingdom, great britain, gb",
    "us, usa, america, american, americans, united states",
    "eu, european union, brussels",
    "un, united nations",
    "pm, prime minister",
    "mp, mps, member of parliament, members of parliament",
    "nhs, national health service",
    "bbc, british broadcasting corporation",
    "england, english",
    "scotland, scottish, scot, scots",
    "wales, welsh",
    "northern ireland, ni",
    "ireland, irish, republic of ireland",
    "france, french",
    "germany, german, germans",
    "italy, italian, italians",
    "spain, spanish",
    "china, chinese",
    "japan, japanese",
    "netherlands, dutch, holland",
    "greece, greek, greeks",
    "turkey, turkish, turks",
    "poland, polish, poles",
    "sweden, swedish, swedes",
    "denmark, danish, danes",
    "finland, finnish, finns",
    "norway, norwegian, norwegians",
    "switzerland, swiss",
    "portugal, portuguese",
    "belgium, belgian, belgians",
    "iraq, iraqi, iraqis",
    "israel, israeli, israelis",
    "pakistan, pakistani, pakistanis",
    "afghanistan, afghan, afghans",
    "saudi arabia, saudi, saudis",
    "philippines, filipino, filipinos",
    "vietnam, vietnamese",
    "korea, korean, koreans",
    "thailand, thai",
    "new zealand, new zealander, new zealanders, kiwi, kiwis",
    "europe, european, europeans",
    "africa, african, africans",
    "asia, asian, asians",
]
_PLACE_TO_DEMONYM = ("i", "is", "n", "ns", "an", "ans", "ian", "ians", "ese")
# Regular demonym endings: Syrian -> Syria, Kenyan -> Kenya, Nigerian -> Nigeria.
_DEMONYM_SUFFIXES = (
    ("ians", "ia"),
    ("ian", "ia"),
    ("ans", "a"),
    ("an", "a"),
    ("ans", ""),
    ("an", ""),
    ("ese", ""),
    ("i", ""),
    ("is", ""),
)
