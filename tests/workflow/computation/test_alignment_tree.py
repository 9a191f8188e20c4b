"""Properties of the alignment tree's pure parts: pre-order, uniqueness, redaction, subtrees."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workflow.computation.alignment import Shape, TreeNode, keep_trees, pre_order, subtree_of_teams


@st.composite
def forests(draw: st.DrawFn) -> dict[int, Shape]:
    """Random parent links, dangling parents and even loops included (stored data may hold them)."""
    size = draw(st.integers(min_value=0, max_value=25))
    ids = list(range(1, size + 1))
    shapes = {}
    for i in ids:
        parent = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=size + 3)))
        team = draw(st.sampled_from([1, 2, 3]))
        shapes[i] = Shape(i, parent, cycle_id=1, owner_team_id=team, visible=draw(st.booleans()))
    return shapes


def assert_valid_pre_order(nodes: list[TreeNode], shapes: dict[int, Shape]) -> None:
    ids = [n.id for n in nodes]
    assert len(ids) == len(set(ids)), "a node appears twice"
    assert set(ids) == set(shapes)
    position = {n.id: i for i, n in enumerate(nodes)}
    depth = {n.id: n.depth for n in nodes}
    for i, node in enumerate(nodes):
        assert node.restricted == (not shapes[node.id].visible)
        if node.parent_id is None:
            assert node.depth == 0
        else:
            assert position[node.parent_id] < i
            assert node.depth == depth[node.parent_id] + 1
            assert shapes[node.id].parent_id == node.parent_id
            # Pre-order: everything between a parent and this child lies in the parent's subtree.
            assert all(nodes[j].depth > depth[node.parent_id] for j in range(position[node.parent_id] + 1, i))


@given(forests())
def test_pre_order_places_every_node_once_after_its_parent(shapes: dict[int, Shape]) -> None:
    assert_valid_pre_order(pre_order(shapes), shapes)


@given(forests(), st.sets(st.sampled_from([1, 2, 3])))
def test_team_subtree_is_a_valid_tree_and_never_ends_in_a_hidden_node(
    shapes: dict[int, Shape], teams: set[int]
) -> None:
    kept = subtree_of_teams(shapes, teams)
    nodes = pre_order(kept)
    assert_valid_pre_order(nodes, kept)
    for i, node in enumerate(nodes):
        if node.restricted:
            assert i + 1 < len(nodes), "a hidden node with nothing below"
            assert nodes[i + 1].depth == node.depth + 1, "a hidden node with nothing below"
        if node.depth == 0:
            assert not node.restricted, "a hidden node at the top hints at its owner"


@given(forests(), st.data())
def test_keep_trees_keeps_whole_trees(shapes: dict[int, Shape], data: st.DataObject) -> None:
    nodes = pre_order(shapes)
    roots = [n.id for n in nodes if n.depth == 0]
    chosen = set(data.draw(st.lists(st.sampled_from(roots), unique=True))) if roots else set()
    kept = keep_trees(nodes, chosen)
    kept_roots = {n.id for n in kept if n.depth == 0}
    assert kept_roots == chosen
    assert_valid_pre_order(kept, {n.id: shapes[n.id] for n in kept})
