"""Who mentors whom this round: a pure, deterministic matching.

The rules, in order of priority:
1. as many learners as possible get a mentor who offers a skill they want;
2. a mentor takes at most LEARNERS_PER_MENTOR learners a round; nobody is paired with themselves;
3. among the matchings that pair the most learners, one that repeats the fewest of last round's
   pairs: a learner meets last round's mentor again only when nobody else could take them;
4. then, when there are not enough mentors, learners who had no mentor last round come first,
   so the same people are not left out round after round.

It is a min-cost max-flow: source → learner (1) → mentors offering a wanted skill → mentor
(capacity) → sink. Costs order rules 3 and 4: the learner's edge to last round's mentor costs
more than all of rule 4 can weigh, and the source's edge to a learner paired last round costs 1.
A learner is not linked to every mentor of a skill (200,000 edges for 2,000 people): each skill
has a segment tree over its mentors, and a learner links to the few tree nodes that cover all of
them except itself and last round's mentor. Solved by primal-dual: Dijkstra on reduced costs,
then Dinic's blocking flows on the zero-reduced-cost edges, until no path is left.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LEARNERS_PER_MENTOR = 2
_UNLIMITED = 1 << 30
_SOURCE, _SINK = 0, 1


@dataclass(frozen=True, order=True)
class Pair:
    learner: str
    mentor: str
    skill: str


def match_round(
    offers: Mapping[str, Iterable[str]],
    wants: Mapping[str, Iterable[str]],
    previous: Mapping[str, str] | None = None,
    spare: Mapping[str, int] | None = None,
) -> list[Pair]:
    """Pairs for one round, sorted by learner.

    `offers` and `wants`: person → skills. `previous`: learner → last round's mentor.
    `spare`: mentor → learners they can still take this round (default LEARNERS_PER_MENTOR).
    """
    previous = previous or {}
    spare = spare or {}
    mentors_of: dict[str, list[str]] = {}
    for mentor in sorted(offers):
        for skill in sorted(set(offers[mentor])):
            mentors_of.setdefault(skill, []).append(mentor)
    position_of = {skill: {mentor: i for i, mentor in enumerate(mentors)} for skill, mentors in mentors_of.items()}
    learners = sorted(person for person, skills in wants.items() if any(s in mentors_of for s in skills))

    network = _Network()
    mentor_node = {m: network.node() for m in sorted(offers)}
    for mentor, node in mentor_node.items():
        network.add(node, _SINK, spare.get(mentor, LEARNERS_PER_MENTOR))
    trees = {skill: _SkillTree(network, [mentor_node[m] for m in mentors]) for skill, mentors in mentors_of.items()}

    repeat_cost = len(learners) + 1
    source_edge: dict[str, int] = {}
    skill_of_edge: dict[int, str] = {}
    for learner in learners:
        node = network.node()
        source_edge[learner] = network.add(_SOURCE, node, 1, cost=int(learner in previous))
        last_mentor = previous.get(learner)
        repeat_skill = None
        for skill in sorted(set(wants[learner]) & mentors_of.keys()):
            position = position_of[skill]
            if repeat_skill is None and last_mentor in position and last_mentor != learner:
                repeat_skill = skill
            skipped = [position[mentor] for mentor in {learner, last_mentor} if mentor in position]
            for target in trees[skill].all_but(skipped):
                skill_of_edge[network.add(node, target, 1)] = skill
        if repeat_skill is not None:
            skill_of_edge[network.add(node, mentor_node[last_mentor], 1, cost=repeat_cost)] = repeat_skill

    network.min_cost_max_flow()
    mentor_at = {node: mentor for mentor, node in mentor_node.items()}
    pairs = []
    for learner in learners:
        edge = network.flowing_edge_from(source_edge[learner])
        if edge is None:
            continue
        skill = skill_of_edge[edge]
        while network.to[edge] not in mentor_at:
            edge = network.flowing_edge_from(edge)
        pairs.append(Pair(learner, mentor_at[network.to[edge]], skill))
    return pairs


class _SkillTree:
    """A segment tree over the mentors of one skill: each inner node reaches the mentors under it."""

    def __init__(self, network: _Network, leaves: list[int]):
        self.network = network
        self.leaves = leaves
        self.inner: dict[tuple[int, int], int] = {}
        self._build(0, len(leaves))

    def _build(self, low: int, high: int) -> int:
        if high - low == 1:
            return self.leaves[low]
        node = self.network.node()
        self.inner[low, high] = node
        middle = (low + high) // 2
        self.network.add(node, self._build(low, middle), _UNLIMITED)
        self.network.add(node, self._build(middle, high), _UNLIMITED)
        return node

    def all_but(self, skipped: list[int]) -> list[int]:
        """The fewest tree nodes that reach every mentor but those at the `skipped` positions."""
        nodes: list[int] = []
        start = 0
        for stop in [*sorted(skipped), len(self.leaves)]:
            self._cover(0, len(self.leaves), start, stop, nodes)
            start = stop + 1
        return nodes

    def _cover(self, low: int, high: int, start: int, stop: int, nodes: list[int]) -> None:
        if stop <= low or high <= start or start >= stop:
            return
        if start <= low and high <= stop:
            nodes.append(self.leaves[low] if high - low == 1 else self.inner[low, high])
            return
        middle = (low + high) // 2
        self._cover(low, middle, start, stop, nodes)
        self._cover(middle, high, start, stop, nodes)


class _Network:
    """A flow network with edge costs; edge e and e ^ 1 are each other's reverse."""

    def __init__(self) -> None:
        self.out: list[list[int]] = [[], []]  # node → its edges; nodes 0 and 1 are the source and the sink
        self.to: list[int] = []
        self.capacity: list[int] = []  # left to use
        self.cost: list[int] = []

    def node(self) -> int:
        self.out.append([])
        return len(self.out) - 1

    def add(self, tail: int, head: int, capacity: int, cost: int = 0) -> int:
        edge = len(self.to)
        self.to += [head, tail]
        self.capacity += [capacity, 0]
        self.cost += [cost, -cost]
        self.out[tail].append(edge)
        self.out[head].append(edge + 1)
        return edge

    def flowing_edge_from(self, edge: int) -> int | None:
        """Take one unit of flow on from the head of `edge`: the next edge it went through."""
        for following in self.out[self.to[edge]]:
            if following % 2 == 0 and self.capacity[following + 1] > 0:
                self.capacity[following + 1] -= 1  # so the next learner follows another unit
                return following
        return None

    def min_cost_max_flow(self) -> None:
        potential = [0] * len(self.out)
        while True:
            distance = self._distances(potential)
            if distance[_SINK] is None:
                return
            for node, d in enumerate(distance):
                if d is not None:
                    potential[node] += d
            while self._blocking_flow(potential):
                pass

    def _reduced(self, edge: int, tail: int, potential: list[int]) -> int:
        return self.cost[edge] + potential[tail] - potential[self.to[edge]]

    def _distances(self, potential: list[int]) -> list[int | None]:
        """Dijkstra from the source on reduced costs (never negative) over edges with capacity left."""
        distance: list[int | None] = [None] * len(self.out)
        distance[_SOURCE] = 0
        queue = [(0, _SOURCE)]
        while queue:
            d, node = heapq.heappop(queue)
            if d > distance[node]:
                continue
            for edge in self.out[node]:
                if self.capacity[edge] > 0:
                    head = self.to[edge]
                    through = d + self._reduced(edge, node, potential)
                    if distance[head] is None or through < distance[head]:
                        distance[head] = through
                        heapq.heappush(queue, (through, head))
        return distance

    def _blocking_flow(self, potential: list[int]) -> bool:
        """Dinic's phase on the edges of zero reduced cost: BFS levels, then augment until blocked."""
        level = [-1] * len(self.out)
        level[_SOURCE] = 0
        frontier = [_SOURCE]
        to, capacity, cost = self.to, self.capacity, self.cost
        while frontier and level[_SINK] < 0:
            following = []
            for node in frontier:
                from_node = potential[node]
                for edge in self.out[node]:
                    head = to[edge]
                    if level[head] < 0 and capacity[edge] > 0 and cost[edge] + from_node == potential[head]:
                        level[head] = level[node] + 1
                        following.append(head)
            frontier = following
        if level[_SINK] < 0:
            return False
        next_edge = [0] * len(self.out)
        while self._augment(level, next_edge, potential):
            pass
        return True

    def _augment(self, level: list[int], next_edge: list[int], potential: list[int]) -> bool:
        """Push flow along one source → sink path of the level graph (iterative: paths can be long)."""
        to, capacity, cost = self.to, self.capacity, self.cost  # the hot loop of the matching: locals
        path: list[int] = []
        node = _SOURCE
        while node != _SINK:
            edges, wanted_level, from_node = self.out[node], level[node] + 1, potential[node]
            while next_edge[node] < len(edges):
                edge = edges[next_edge[node]]
                head = to[edge]
                if capacity[edge] > 0 and level[head] == wanted_level and cost[edge] + from_node == potential[head]:
                    break  # an edge of the level graph with zero reduced cost (see _reduced)
                next_edge[node] += 1
            else:  # a dead end: never come back here this phase
                level[node] = -1
                if not path:
                    return False
                node = to[path.pop() ^ 1]
                next_edge[node] += 1
                continue
            path.append(edge)
            node = head
        pushed = min(capacity[edge] for edge in path)
        for edge in path:
            capacity[edge] -= pushed
            capacity[edge ^ 1] += pushed
        return True
