"""The hop-aligned wording model: a word learned for a step at one hop counts at another."""

from __future__ import annotations

from nesykg.agents.wording import HopModel, hop_words


def test_hop_words_orders_hops_from_the_topic() -> None:
    assert hop_words("who is the heir of X 's other half ?", "X") == (["other", "half", "heir"], ["q:who"])
    assert hop_words("X 's other half 's heir ?", "X")[0] == ["other", "half", "heir"]
    assert hop_words("where does X 's son work ?", "X") == (["son", "work"], ["q:does", "q:where"])


def test_a_word_seen_at_the_first_hop_names_the_step_at_the_second() -> None:
    train = [
        (*hop_words("who is the heir of X ?", "X"), ("children",), 1.0),
        (*hop_words("what is the nationality of X 's heir ?", "X"), ("children", "nationality"), 1.0),
        (*hop_words("what is the gender of X 's other half ?", "X"), ("spouse", "gender"), 1.0),
        (*hop_words("what is the nationality of X 's other half ?", "X"), ("spouse", "nationality"), 1.0),
        (*hop_words("what is the gender of X 's child ?", "X"), ("children", "gender"), 1.0),
    ]
    model = HopModel().fit(train)
    words, cues = hop_words("who is the heir of X 's other half ?", "X")
    paths = [("spouse", "gender"), ("spouse", "nationality"), ("spouse", "children"), ("children", "gender")]
    post = model.posterior(words, cues, paths)
    assert max(post, key=post.__getitem__) == ("spouse", "children")  # never seen as a whole path
    assert abs(sum(post.values()) - 1.0) < 1e-9


def test_a_step_named_by_no_word_costs_but_is_possible() -> None:
    train = [(*hop_words("what does X 's son do ?", "X"), ("children", "profession"), 1.0),
             (*hop_words("what does Z do ?", "Z"), ("profession",), 1.0),
             (*hop_words("who is the son of X ?", "X"), ("children",), 1.0)]
    model = HopModel().fit(train)
    words, cues = hop_words("what does Y 's son do ?", "Y")
    post = model.posterior(words, cues, [("children",), ("children", "profession")])
    assert post[("children", "profession")] > 0.5
