from qa.answer.questions import (
    asked_part,
    clean_question,
    conversation_context,
    holds_names,
    is_follow_up,
    name_words,
    question_names,
    reader_question,
    rewrite_follow_up,
    wh_word,
)
from qa.records import Answer


def test_the_question_word_is_its_first_wh_word():
    assert wh_word("From whom did they buy the land?") == "whom" and wh_word("It was proposed by WHOM?") == "whom"
    assert wh_word("What did the man who resigned say?") == "what" and wh_word("Is it over?") is None
    assert asked_part("In 2001, who became the owner?") == "who became the owner?"
    assert asked_part("Is it over?") == "Is it over?"


def test_follow_up_detection_and_rewrite():
    assert is_follow_up("When did he say it?")
    assert is_follow_up("And Turkey?")
    assert not is_follow_up("Who proposed the 3+3 format?")
    history = [Answer("Who proposed the 3+3 format?", "Sergei Lavrov", False, 0.9)]
    rewritten = rewrite_follow_up("When did he say it?", history)
    assert rewritten.startswith("When did he say it?") and "Sergei Lavrov" in rewritten and "3+3" in rewritten
    assert rewrite_follow_up("Who is Maria Zakharova?", history) == "Who is Maria Zakharova?"
    assert rewrite_follow_up("When did he say it?", []) == "When did he say it?"


def test_history_shapes():
    for history in (
        [("Who proposed it?", "Lavrov")],
        [{"question": "Who proposed it?", "answer": "Lavrov"}],
        [{"role": "user", "content": "Who proposed it?"}, {"role": "assistant", "content": "Lavrov"}],
    ):
        ctx = conversation_context(history)
        assert ctx.last_question == "Who proposed it?" and ctx.last_answer == "Lavrov"
    assert conversation_context([]) is None


def test_reader_question_names_who_the_pronoun_is():
    history = [Answer("Who is Iran's foreign minister?", "Hussein Amir-Abdollahian", False, 0.9)]
    assert reader_question("Where did he travel?", history) == "Where did Hussein Amir-Abdollahian travel?"
    assert reader_question("What did his ministry say?", history) == "What did Hussein Amir-Abdollahian's ministry say?"
    # Nothing to put in: no pronoun, no history, or an abstention as the last turn.
    assert reader_question("Which countries would take part?", history) == "Which countries would take part?"
    assert reader_question("Where did he travel?", []) == "Where did he travel?"
    abstained = [Answer("Who won the cup?", None, True, 0.1)]
    assert reader_question("Where did he travel?", abstained) == "Where did he travel?"


def test_a_question_typed_without_its_mark_gets_one():
    assert clean_question("  who proposed the 3+3 format ") == "who proposed the 3+3 format?"
    assert clean_question("in which city did they meet") == "in which city did they meet?"
    assert clean_question("Is the bill withdrawn") == "Is the bill withdrawn?"
    assert clean_question("Who proposed the 3+3 format.") == "Who proposed the 3+3 format?"
    assert clean_question("Which company sued the U.S.") == "Which company sued the U.S."
    # Already ended, or not a question: left as typed.
    for text in ("Who proposed it?", "The talks were held where.", "Lavrov 3+3 format", "Caspian talks"):
        assert clean_question(text) == text


def test_the_question_inside_a_request_is_the_one_read():
    assert clean_question("Can you tell me who proposed the 3+3 format?") == "Who proposed the 3+3 format?"
    assert clean_question("please tell me when the article was published") == "When the article was published?"
    assert clean_question("I'd like to know which countries would take part.") == "Which countries would take part?"
    assert clean_question("Do you know, who met Lavrov") == "Who met Lavrov?"
    # A request that wraps no question is left as it is.
    assert clean_question("Tell me about the Caspian talks") == "Tell me about the Caspian talks"


def test_what_is_typed_before_the_question_is_left_out():
    assert clean_question("Hi! Who proposed the 3+3 format?") == "Who proposed the 3+3 format?"
    assert clean_question("Hello, who proposed the 3+3 format") == "Who proposed the 3+3 format?"
    assert clean_question("Quick question: can you tell me who met Lavrov") == "Who met Lavrov?"
    lead = "I was reading about the Caspian talks. Which countries would take part?"
    assert clean_question(lead) == "Which countries would take part?"
    assert clean_question("Hey, how old was Walter Munk when he died?") == "How old was Walter Munk when he died?"
    # A greeting names nobody: a follow-up after one is read without it.
    assert clean_question("Thanks! Where did he travel?") == "Where did he travel?"
    # Kept whole: a question pointing back to what came before, a question before it, an abbreviation's stop
    # inside the question, a comma that is not after a greeting, and what is too short to stand alone.
    for text in (
        "Mr. Smith resigned. Why did he resign?",
        "Who is the U.S. president? Is he old?",
        "What did Dr. Who say?",
        "Besides the driver, who else worked there?",
        "Thanks. Why?",
    ):
        assert clean_question(text) == text


def test_what_is_typed_after_the_question_is_left_out():
    assert clean_question("Who proposed the 3+3 format? Thanks!") == "Who proposed the 3+3 format?"
    assert clean_question("Who proposed the 3+3 format? I could not find it.") == "Who proposed the 3+3 format?"
    assert clean_question("Hello, who met Lavrov? thx") == "Who met Lavrov?"
    # Another question after it stays.
    for text in ("Who won? And when?", "Can a packet be sent empty? If so, is it billable?", "Who won? When?"):
        assert clean_question(text) == text


def test_the_same_answer_after_a_greeting_a_lead_in_or_thanks(default_index):
    asked = default_index.answer("Who proposed the 3+3 format?")
    for typed in (
        "Hello, who proposed the 3+3 format?",
        "I read about the talks. Who proposed the 3+3 format?",
        "Who proposed the 3+3 format? Thanks!",
    ):
        answer = default_index.answer(typed)
        assert (answer.text, answer.confidence, answer.citations) == (asked.text, asked.confidence, asked.citations)
    minister = default_index.answer("Who is Iran's new foreign minister?")
    thanked = default_index.answer("Thanks! Where did he travel?", history=[minister])
    plain = default_index.answer("Where did he travel?", history=[minister])
    assert (thanked.text, thanked.confidence) == (plain.text, plain.confidence) and thanked.text == "Moscow"


def test_the_same_answer_with_or_without_the_question_mark(default_index):
    asked = default_index.answer("Who is the spokesperson of the Russian Foreign Ministry?")
    typed = default_index.answer("who is the spokesperson of the russian foreign ministry")
    assert (typed.text, typed.abstained, typed.confidence) == (asked.text, asked.abstained, asked.confidence)
    assert [c.start for c in typed.citations] == [c.start for c in asked.citations]
    requested = default_index.answer("Could you tell me who the spokesperson of the Russian Foreign Ministry is")
    plain = default_index.answer("Who the spokesperson of the Russian Foreign Ministry is?")
    assert (requested.text, requested.confidence) == (plain.text, plain.confidence)


def test_a_question_s_names_and_figures_are_what_its_story_is_about():
    assert question_names("Who won the 2018 World Cup?") == ["2018", "world", "cup"]
    assert question_names("How many people have died in Samoa's measles outbreak?") == ["samoa"]
    assert question_names("In 2001, who became U.S. President?") == ["2001", "us", "president"]
    assert question_names("who is it?") == []
    assert question_names("Who moderated the first Trump-Biden debate?") == ["trump", "biden"]
    assert holds_names(["trump", "biden"], name_words("the debate between Trump and Biden"))
    assert holds_names(["samoa"], name_words("Samoa's measles outbreak")) and holds_names(
        ["samoa"], name_words("the Samoan government")
    )
    assert not holds_names(["samoa"], name_words("Tonga's prime minister died")) and holds_names(
        [], name_words("anything")
    )
    assert holds_names(["us"], name_words("the U.S. government")) and not holds_names(
        ["us"], name_words("use of force")
    )
