"""Cue words of the genre, as lemmas (lower case, е for ё): the baseline's only knowledge.

Each set is a pattern every article about talks and visits uses, not a phrase of
one article. Rules in `meetings` and `positions` read these; nothing else does.
"""

from __future__ import annotations

__all__ = [
    "ANAPHORA",
    "ARRIVAL",
    "CANCEL",
    "COMMENT_VERBS",
    "CONTINUATION",
    "DIRECTING",
    "EVENT_VERBS",
    "HEADS_OF_STATE",
    "HEAD_CUES",
    "HELD_MODIFIERS",
    "INSTITUTION_VERBS",
    "NEEDS_COMPANY",
    "PARTICIPATION",
    "PHONE",
    "PLAN",
    "PLANNED_MODIFIERS",
    "POSTPONE",
    "PROPOSE",
    "PROPOSED_MODIFIERS",
    "RECEIVE",
    "RELATIONAL",
    "ROLE_NOUNS",
    "SIDE_ADJECTIVES",
    "SIDE_NOUNS",
    "SPEECH_VERBS",
    "STANCE_CUES",
    "TRIGGER_NOUNS",
    "TRIGGER_VERBS",
    "VENUES",
    "VIDEO",
    "VISIT_VERBS",
    "words",
]


def words(text: str) -> frozenset[str]:
    """A word set written as one string: lists of Russian words read best that way."""
    return frozenset(text.split())


TRIGGER_NOUNS = words(
    "встреча переговоры переговор визит контакт разговор беседа саммит заседание раунд "
    "консультации консультация поездка приезд созвон видеоконференция видеосвязь"
)
"""Nouns that name a meeting ('встреча', 'раунд переговоров', 'телефонный разговор')."""

RECEIVE = words("принять принимать")
"""'Путин принял Уиткоффа': a meeting when a person or title is the object."""

TRIGGER_VERBS = words(
    "встретиться встречаться посетить посещать побывать созвониться поговорить переговорить"
)
"""Verbs whose subject and object meet."""

ARRIVAL = words("прилететь прилетать прибыть прибывать приехать")
"""'Сийярто прибудет в Москву': a visit, but one party only; it joins the meeting the text
names next ('Его примет Лавров')."""

NEEDS_COMPANY = words("разговор беседа контакт поездка приезд")
"""Trigger nouns too common in other senses to stand alone: they need a named side."""

VISIT_VERBS = words(
    "посетить посещать побывать прибыть прибывать приехать прилететь прилетать отправиться"
)
"""Verbs whose object or goal is where the meeting happens ('посетил Россию')."""

EVENT_VERBS = words(
    "состояться пройти проходить провести проводить встретиться встречаться продлиться "
    "длиться продолжаться закончиться завершиться начаться открыться посетить посещать побывать "
    "обсудить обсуждать созвониться поговорить"
)
"""Verbs whose tense tells whether a meeting took place or will."""

PARTICIPATION = words(
    "участвовать присутствовать представлять представить входить войти сопровождать возглавить "
    "возглавлять участие"
)
"""Words that list who takes part ('представит Уиткофф', 'ожидается участие Кушнера'); such a
sentence adds people to the meeting just named."""

HEAD_CUES = words("возглавить возглавлять глава руководитель")
"""Words that make the person they govern the head of a delegation."""

PLAN = words(
    "намерен намереваться планировать запланировать собираться ожидаться предстоять "
    "назначить договориться условиться согласовать"
)
PROPOSE = words(
    "предложить предлагать допустить допускать призвать призывать готовый возможный "
    "пригласить приглашать приглашение"
)
CANCEL = words("отменить отменять отмена сорваться сорвать")
POSTPONE = words("перенести переносить отложить откладывать перенос")

HELD_MODIFIERS = words(
    "итог результат предыдущий прошлый минувший недавний последний нынешний прошедший "
    "проведенный состоявшийся"
)
"""Words just before a meeting noun that mark it as past ('по итогам встречи')."""
PLANNED_MODIFIERS = words(
    "следующий предстоящий будущий запланированный проведение подготовка очередной"
)
PROPOSED_MODIFIERS = words("возможный потенциальный")

CONTINUATION = words("следующий очередной новый отдельный")
"""Words that make a mention a further meeting of a series ('следующий раунд'); so does
'ещё один'."""

ANAPHORA = words("этот тот такой данный там тогда")
"""Words that point back to the meeting just named."""

PHONE = words("телефонный телефон созвониться созвон")
VIDEO = words("видеосвязь видеоконференция видеоформат онлайн видеозвонок")

SPEECH_VERBS = words(
    "сказать заявить заявлять сообщить сообщать подтвердить подтверждать отметить "
    "отмечать подчеркнуть подчеркивать рассказать рассказывать указать указывать "
    "написать писать добавить уточнить резюмировать ответить признать пояснить "
    "объяснить считать назвать называть охарактеризовать оценить оценивать "
    "допустить заверить напомнить констатировать"
)
"""Verbs that report what someone said: their subject is a speaker."""

DIRECTING = words("поручить поручать направить направлять отправить отправлять")
"""Verbs whose subject sends others to meet ('Трамп поручил Уиткоффу встретиться …')."""

INSTITUTION_VERBS = words(
    "проанализировать отказаться отказываться полагать знать понимать ждать ожидать "
    "готовить готовиться опасаться надеяться"
)
"""Verbs after 'в Кремле' that make the building a speaker, not a venue."""

ROLE_NOUNS = words(
    "президент премьер премьер-министр министр глава посланник спецпосланник "
    "представитель спецпредставитель помощник советник пресс-секретарь секретарь "
    "госсекретарь зять основатель начальник руководитель директор председатель лидер "
    "посол заместитель замглавы замминистра канцлер сенатор генерал командующий "
    "главнокомандующий генсек вице-президент спикер депутат сотрудник переговорщик "
    "дипломат эмиссар сопредседатель мэр губернатор"
)
"""Titles: a name after one of these is the person holding it."""

RELATIONAL = words(
    "представитель спецпредставитель посланник спецпосланник помощник советник зять "
    "пресс-секретарь сотрудник эмиссар переговорщик"
)
"""Titles that relate to someone else: 'представители Трампа' are not Трамп."""

HEADS_OF_STATE = words("президент премьер премьер-министр канцлер")
"""Titles that make their holder lead the side at a meeting."""

SIDE_ADJECTIVES = {
    "российский": "RU",
    "американский": "US",
    "украинский": "UA",
    "эмиратский": "AE",
    "швейцарский": "CH",
    "турецкий": "TR",
    "саудовский": "SA",
    "германский": "DE",
    "немецкий": "DE",
    "французский": "FR",
    "британский": "GB",
    "белорусский": "BY",
    "китайский": "CN",
    "катарский": "QA",
    "венгерский": "HU",
    "польский": "PL",
    "израильский": "IL",
    "иранский": "IR",
    "итальянский": "IT",
    "испанский": "ES",
    "финский": "FI",
    "финляндский": "FI",
    "эстонский": "EE",
    "латвийский": "LV",
    "литовский": "LT",
    "чешский": "CZ",
    "словацкий": "SK",
    "румынский": "RO",
    "молдавский": "MD",
    "сербский": "RS",
    "австрийский": "AT",
    "норвежский": "NO",
    "шведский": "SE",
    "датский": "DK",
    "нидерландский": "NL",
    "бельгийский": "BE",
    "японский": "JP",
    "индийский": "IN",
    "бразильский": "BR",
    "египетский": "EG",
    "иорданский": "JO",
    "канадский": "CA",
    "грузинский": "GE",
    "армянский": "AM",
    "азербайджанский": "AZ",
    "казахстанский": "KZ",
}
"""Adjectives that name a side ('российская делегация', 'американские переговорщики')."""

SIDE_NOUNS = {"американец": "US", "россиянин": "RU", "украинец": "UA"}

VENUES = {
    "кремль": ("Кремль", "Москва", "RU"),
    "белый дом": ("Белый дом", "Вашингтон", "US"),
    "мар-а-лаго": ("Мар-а-Лаго", "Палм-Бич", "US"),
    "елисейский дворец": ("Елисейский дворец", "Париж", "FR"),
    "даунинг-стрит": ("Даунинг-стрит", "Лондон", "GB"),
}
"""Buildings that stand for a city: 'в Кремле' is a venue in Moscow."""

STANCE_CUES: dict[str, frozenset[str]] = {
    "decline": words("отказаться отказываться воздержаться"),
    "demand": words(
        "требовать потребовать требование условие настаивать должный необходимый невозможный "
        "призвать призывать"
    ),
    "oppose": words(
        "против возражать отвергать отвергнуть отклонить отклонять неприемлемый "
        "несогласный осудить осуждать раскритиковать критиковать"
    ),
    "propose": words("предлагать предложить допустить допускать предложение готовый"),
    "support": words(
        "поддерживать поддержать приветствовать одобрить одобрять условиться "
        "договориться согласиться продолжать"
    ),
    "assessment": words(
        "назвать называть охарактеризовать оценить оценивать считать конструктивный "
        "продуктивный позитивный полезный плодотворный откровенный прогресс надежда "
        "обнадеживать хороший важный успешный положительный негативный сложный трудный "
        "скептически оптимизм оптимистичный содержательный деловой уверенный уверенность "
        "обеспокоенность озабоченность сожаление"
    ),
}
"""Stance cue lemmas; the first kind found, in this order, wins."""

COMMENT_VERBS = words(
    "комментировать прокомментировать раскрывать раскрыть уточнять уточнить сообщать сообщить "
    "называть назвать говорить сказать"
)
"""What a 'decline' refuses to do: 'отказался комментировать'. Refusing anything else
('отказываемся участвовать') is opposition."""
