"""A hidden row is left out of every query on its table, whatever the query's shape: each query
answers the same with hidden rows in the table as after they are deleted."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from storage import feedback, ideas, kudos
from storage.db import make_session_factory
from storage.feedback import Feedback
from storage.ideas import Idea, IdeaStatusChange, IdeaVote
from storage.kudos import Kudos
from storage.models import Member
from tests.bot.factories import kudos as a_kudos

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
WEEK = (NOW - timedelta(days=7), NOW + timedelta(minutes=1))
QUERIES = {
    "kudos_counts": lambda s: kudos.kudos_counts(s, [WEEK]),
    "recognised": lambda s: kudos.recognised(s, WEEK),
    "givers": lambda s: kudos.givers(s, WEEK),
    "value_counts": lambda s: kudos.value_counts(s, ("teamwork",), WEEK),
    "first_time_recipients": lambda s: kudos.first_time_recipients(s, WEEK),
    "members_without_kudos_since": lambda s: kudos.members_without_kudos_since(s, WEEK[0], include_guests=False),
    "top_recipients": lambda s: kudos.top_recipients(s, None),
    "stats_for": lambda s: _stats(kudos.stats_for(s, "UHID", WEEK[0], WEEK[0])),
    "kudos_since": lambda s: [k.id for k in kudos.kudos_since(s, None)],
    "feedback_counts": lambda s: feedback.feedback_counts(s, WEEK),
    "overdue_feedback_requests": lambda s: feedback.overdue_feedback_requests(s, NOW + timedelta(days=1)),
    "feedback_since": lambda s: [f.id for f in feedback.feedback_since(s, None)],
    "waiting_on": lambda s: [f.id for f in feedback.waiting_on(s, "UANA")],
    "idea_status_counts_by_author": lambda s: ideas.idea_status_counts_by_author(s, WEEK),
    "received_counts": lambda s: kudos.received_counts(s, [WEEK]),
    "given_counts": lambda s: kudos.given_counts(s, [WEEK]),
    "feedback_counts_by_person": lambda s: feedback.feedback_counts_by_person(s, WEEK),
    "ideas_implemented": lambda s: [i.id for i in ideas.ideas_implemented(s, WEEK)],
    "merge_targets": lambda s: [i.id for i in ideas.merge_targets(s, 3, 10)],
    "merged_into": lambda s: ideas.merged_into(s, 3),
    "ideas_awaiting_review": lambda s: ideas.ideas_awaiting_review(s),
    "newest": lambda s: [(i.id, n) for i, n in ideas.newest(s, ("new", "implemented"), 10)],
    "most_voted": lambda s: [(i.id, n) for i, n in ideas.most_voted(s, ("new", "implemented"), 10)],
    "count_ideas": lambda s: ideas.count_ideas(s, ("new", "implemented")),
    "ideas_by_author": lambda s: [(i.id, n) for i, n in ideas.ideas_by_author(s, "UANA", 10)[0]],
    "ideas_since": lambda s: [(i.id, n) for i, n in ideas.ideas_since(s, None)],
    "lock_idea": lambda s: ideas.lock_idea(s, 2) is None,
}


def _stats(stats: kudos.KudosStats) -> tuple:
    return (stats.received_week, stats.received_all, stats.given_all, stats.top_values, [k.id for k in stats.latest])


def test_every_query_leaves_hidden_rows_out(engine):
    factory = make_session_factory(engine)
    with factory.begin() as session:
        session.add_all(Member(user_id=u, first_seen_at=NOW) for u in ("UANA", "UHID"))
        session.add_all([a_kudos("UGIVER", "UANA", NOW, "teamwork"), a_kudos("UGIVER", "UHID", NOW, "teamwork")])
        session.add_all(
            [Idea(title=t, author_id="UANA", status="implemented", created_at=NOW) for t in ("kept", "hidden")]
            + [Idea(title="the one both went into", status="new", created_at=NOW)]
        )
        session.add_all(
            [
                Feedback(about_id="UREQ", giver_id="UANA", requested=True, status="open", created_at=NOW),
                Feedback(about_id="UREQ", giver_id="UANA", requested=True, status="open", created_at=NOW),
                Feedback(about_id="UANA", requested=False, status="answered", created_at=NOW, answered_at=NOW),
            ]
        )
        session.flush()
        session.add_all(
            [IdeaVote(idea_id=i, voter_id="UBEN", created_at=NOW) for i in (1, 2)]
            + [
                IdeaStatusChange(
                    idea_id=i, changed_by="ULEAD", from_status="new", to_status="implemented", changed_at=NOW
                )
                for i in (1, 2)
            ]
        )
        for number in (1, 2):
            session.get(Idea, number).merged_into_id = 3
        for table, number in ((Kudos, 2), (Idea, 2), (Feedback, 2), (Feedback, 3)):
            session.get(table, number).hidden_at = NOW

    with factory() as session:
        with_hidden = {name: query(session) for name, query in QUERIES.items()}
    with factory.begin() as session:
        everything = select(func.count()).select_from(Kudos).execution_options(include_hidden=True)
        assert session.scalar(everything) == 2
        for table in (Kudos, Idea, Feedback):
            session.execute(delete(table).where(table.hidden_at.is_not(None)))
    with factory() as session:
        without = {name: query(session) for name, query in QUERIES.items()}

    assert with_hidden == without
    assert with_hidden["kudos_counts"] == [1] and with_hidden["received_counts"] == {"UANA": [1]}
    assert with_hidden["merged_into"] == [1] and with_hidden["merge_targets"] == [1]
    assert with_hidden["feedback_counts"] == feedback.FeedbackCounts(asked=1, answered=0, unrequested=0)
