"""Text normalisation: cleaning, abbreviations, number words as digits."""

import pytest

from agents.analyzer.text import Request, clean_text, digitised, truncated


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<b>Hi</b>&amp; bye", "Hi & bye"),
        ("> From: Karen\n>  Hi!\n\n\n- 20 guests", "From: Karen\nHi!\n- 20 guests"),
        ("it\u2019s \u201cgreat\u201d \u2013 ok", 'it\'s "great" - ok'),
        ("a\u200bb\x00c   d", "abc d"),
    ],
)
def test_clean_text_keeps_lines_and_drops_markup_quotes_and_invisibles(raw, clean):
    assert clean_text(raw) == clean


def test_truncation_stops_at_a_word_boundary():
    assert truncated("birthday party tomorrow", 12) == "birthday"


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("about three grand", "about 3 grand"),
        ("twenty-five guests", "25 guests"),
        ("a dozen couples", "12 couples"),
        ("two dozen kids", "24 kids"),
        ("her fifth birthday", "her 5th birthday"),
        ("party tmrw", "party tomorrow"),
        ("Sept. 5", "Sept 5"),
        ("st. paddy's day", "saint paddy's day"),
        ("$0.5 million", "$0.5 mil"),
        ("bday 4 my son", "bday for my son"),
    ],
)
def test_number_words_and_abbreviations_become_what_the_extractors_read(rules, text, digits):
    assert digitised(text, rules.text) == digits


def test_the_cased_and_plain_forms_line_up(rules):
    request = Request.of("Party in İstanbul for Forty Guests", rules.text)

    assert request.plain == request.cased.lower() or len(request.plain) == len(request.cased)
    assert len(request.plain) == len(request.cased)
    assert "40" in request.plain
