from fairway_events.runs import runs


def test_consecutive_items_of_one_kind_form_one_run() -> None:
    items = [("a", 1), ("a", 2), ("b", 3), ("a", 4)]
    assert list(runs(items, kind=lambda i: i[0])) == [
        ("a", [("a", 1), ("a", 2)]), ("b", [("b", 3)]), ("a", [("a", 4)])]


def test_a_run_ends_where_an_item_touches_what_an_earlier_one_touched() -> None:
    created = [("p1", {"k1"}), ("p2", {"k2"}), ("p3", {"k1", "k3"}), ("p4", {"k4"}), ("p4", {"k5"})]
    out = list(runs(created, kind=lambda _: "created", touches=lambda c: {c[0], *c[1]}))
    assert [[c[0] for c in run] for _, run in out] == [["p1", "p2"], ["p3", "p4"], ["p4"]]


def test_nothing_in_nothing_out() -> None:
    assert list(runs([], kind=lambda i: i)) == []
