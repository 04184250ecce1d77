"""benchmarks/transfer_table.py's split: whole MTFL people held out, nested training sets."""

from __future__ import annotations

import csv

from support import benchmark_module

transfer_table = benchmark_module("transfer_table")


def test_lfw_names_carry_the_person_and_web_faces_stand_alone():
    assert transfer_table.person("lfw_5590_Aaron_Eckhart_0001.jpg") == "Aaron_Eckhart"
    assert transfer_table.person("lfw_5590_Abdullah_Gul_0012.jpg") == "Abdullah_Gul"
    assert transfer_table.person("net_7876_000123.jpg") == "net_7876_000123.jpg"


def test_no_person_is_in_both_the_training_pool_and_validation(shared_data):
    with open(shared_data / "mtfl" / "keypoints.csv") as stream:
        _, *rows = list(csv.reader(stream))
    pool, val = transfer_table.split(rows, 0.1, 1000, seed=0)
    people = lambda part: {transfer_table.person(r[1]) for r in part}  # noqa: E731
    assert len(val) == 1000 and not people(pool) & people(val)
    assert transfer_table.split(list(reversed(rows)), 0.1, 1000, seed=0)[0] == pool, "the split depends on the file's order"
    web = lambda part: sum(r[0] == "net_7876" for r in part) / len(part)  # noqa: E731
    assert abs(web(pool[:300]) - web(pool)) < 0.1, "a small training set must draw from both sources"
