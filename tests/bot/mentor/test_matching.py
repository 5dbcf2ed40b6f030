"""Matching properties over seeded random populations, and against brute force on small ones."""

import itertools
import random
from collections import Counter

import pytest

from bot.mentor.matching import LEARNERS_PER_MENTOR, Pair, match_round

SKILLS = ["billing", "coaching", "de-escalation", "written-tone"]


def population(rng: random.Random, people: int, skills: list[str], offer: float = 0.4, want: float = 0.7):
    """Random offers, wants and last round's mentors; someone may even offer and want the same skill."""
    names = [f"U{n:04d}" for n in range(people)]
    offers = {p: set(rng.sample(skills, rng.randint(1, 2))) for p in names if rng.random() < offer}
    wants = {p: set(rng.sample(skills, rng.randint(1, 2))) for p in names if rng.random() < want}
    previous = {learner: rng.choice(names) for learner in wants if rng.random() < 0.6}
    return offers, wants, previous


def repeats(pairs: list[Pair], previous: dict[str, str]) -> int:
    return sum(previous.get(pair.learner) == pair.mentor for pair in pairs)


def check_valid(pairs: list[Pair], offers, wants, spare=None):
    spare = spare or {}
    assert len({pair.learner for pair in pairs}) == len(pairs), "a learner has one mentor"
    for pair in pairs:
        assert pair.learner != pair.mentor
        assert pair.skill in offers[pair.mentor] and pair.skill in wants[pair.learner]
    for mentor, learners in Counter(pair.mentor for pair in pairs).items():
        assert learners <= spare.get(mentor, LEARNERS_PER_MENTOR)


def outcome(pairs: list[Pair], previous: dict[str, str]) -> tuple[int, int, int]:
    """(learners matched, repeats, learners matched who had no mentor last round)."""
    return len(pairs), repeats(pairs, previous), sum(pair.learner not in previous for pair in pairs)


def brute_force(offers, wants, previous) -> tuple[int, int, int]:
    """The best outcome: most learners matched, then fewest repeats, then most who waited last round."""
    learners = sorted(wants)
    choices = [
        [None] + [m for m in sorted(offers) if m != learner and offers[m] & wants[learner]] for learner in learners
    ]
    best = (0, 0, 0)
    for mentors in itertools.product(*choices):
        if any(n > LEARNERS_PER_MENTOR for n in Counter(m for m in mentors if m).values()):
            continue
        paired = [(who, m) for who, m in zip(learners, mentors, strict=True) if m is not None]
        repeated = sum(previous.get(who) == m for who, m in paired)
        waited = sum(who not in previous for who, _ in paired)
        best = max(best, (len(paired), -repeated, waited))
    return best[0], -best[1], best[2]


@pytest.mark.parametrize("seed", range(300))
def test_small_populations_match_as_many_as_brute_force_with_the_fewest_repeats(seed):
    rng = random.Random(seed)
    offers, wants, previous = population(rng, rng.randint(2, 7), SKILLS[:3])

    pairs = match_round(offers, wants, previous)

    check_valid(pairs, offers, wants)
    assert outcome(pairs, previous) == brute_force(offers, wants, previous)


def test_the_brute_force_cases_include_unavoidable_repeats_and_people_left_out():
    """Otherwise the test above would prove little about repeats and maximality."""
    outcomes = Counter()
    for seed in range(300):
        rng = random.Random(seed)
        offers, wants, previous = population(rng, rng.randint(2, 7), SKILLS[:3])
        matched, repeated, waited = brute_force(offers, wants, previous)
        outcomes["repeats"] += repeated > 0
        outcomes["left out"] += matched < len(wants)
        outcomes["a choice of who waits"] += matched < len(wants) and 0 < waited < matched
    assert outcomes["repeats"] >= 30 and outcomes["left out"] >= 100 and outcomes["a choice of who waits"] >= 30


@pytest.mark.parametrize("seed", range(20))
def test_large_populations_keep_caps_and_leave_no_one_out_who_could_be_matched(seed):
    rng = random.Random(seed)
    offers, wants, previous = population(rng, 400, [f"skill-{n}" for n in range(12)], offer=0.1)

    pairs = match_round(offers, wants, previous)

    check_valid(pairs, offers, wants)
    load = Counter(pair.mentor for pair in pairs)
    free = {mentor for mentor in offers if load[mentor] < LEARNERS_PER_MENTOR}
    matched = {pair.learner for pair in pairs}
    for learner in set(wants) - matched:
        # An unmatched learner with a mentor free for them would make the matching not maximal.
        assert not any(m != learner and offers[m] & wants[learner] for m in free)
    for pair in pairs:
        if previous.get(pair.learner) == pair.mentor:
            # A repeat only when no other mentor offering a wanted skill had a place left.
            assert not any(m not in (pair.learner, pair.mentor) and offers[m] & wants[pair.learner] for m in free), pair


def test_the_same_population_in_any_order_gives_the_same_pairs():
    offers, wants, previous = population(random.Random(7), 200, SKILLS)
    shuffled = list(wants.items())
    random.Random(1).shuffle(shuffled)

    first = match_round(offers, wants, previous)
    again = match_round(
        dict(reversed(offers.items())), {p: set(sorted(s, reverse=True)) for p, s in shuffled}, previous
    )

    assert first == again and first


def test_last_rounds_mentor_only_when_nobody_else_can_take_the_learner():
    offers = {"UMAYA": {"billing"}, "UNOAH": {"billing"}, "UOLGA": {"coaching"}}
    wants = {"UANA": {"billing"}, "UBEN": {"coaching"}}
    previous = {"UANA": "UMAYA", "UBEN": "UOLGA"}

    assert match_round(offers, wants, previous) == [
        Pair("UANA", "UNOAH", "billing"),  # someone new
        Pair("UBEN", "UOLGA", "coaching"),  # nobody else offers coaching: better the same mentor than none
    ]


def test_when_mentors_are_few_those_who_waited_last_round_come_first():
    offers = {"UMAYA": {"billing"}}
    wants = {"UANA": {"billing"}, "UBEN": {"billing"}, "UCAL": {"billing"}}
    assert [p.learner for p in match_round(offers, wants)] == ["UANA", "UBEN"]

    # UOLGA mentored UANA and UBEN last round and offers nothing now; UCAL had nobody.
    learners = [p.learner for p in match_round(offers, wants, {"UANA": "UOLGA", "UBEN": "UOLGA"})]

    assert len(learners) == 2 and "UCAL" in learners


def test_a_mentor_takes_at_most_two_and_spare_places_count():
    offers = {"UMAYA": {"billing"}}
    wants = {"UANA": {"billing"}, "UBEN": {"billing"}, "UCAL": {"billing"}}

    assert [p.learner for p in match_round(offers, wants)] == ["UANA", "UBEN"]
    assert [p.learner for p in match_round(offers, wants, spare={"UMAYA": 1})] == ["UANA"]
    assert match_round(offers, wants, spare={"UMAYA": 0}) == []


def test_nobody_is_their_own_mentor():
    offers = {"UANA": {"billing"}, "UBEN": {"coaching"}}
    wants = {"UANA": {"billing", "coaching"}, "UBEN": {"coaching"}}

    assert match_round(offers, wants) == [Pair("UANA", "UBEN", "coaching")]
