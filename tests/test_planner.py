"""Pyramid level 3: no two tensors alive at the same time overlap, ever; and the checker itself can fail."""
import numpy as np
import pytest
from mlperf import CASES, dataset, onnx_path

import mcu_codegen
from mcu_codegen import planner


def plan_of(case):
    conv = mcu_codegen.Converter.from_onnx(onnx_path(case))
    conv.representative_dataset = [{"input_1": dataset(case, "calibration", 8)}]
    model = conv.convert()
    return model.graph, model.plan


@pytest.mark.parametrize("case", CASES)
def test_shared_model_plans_pass_the_checker(case):
    graph, plan = plan_of(case)
    planner.check(graph, plan)
    assert plan.lower_bound <= plan.arena_size
    # aliases share bytes: a reshape's output sits exactly on its input
    for node in graph.nodes:
        if node.op == "reshape":
            assert plan.offsets[node.outputs[0]] == plan.offsets[node.inputs[0]]


def test_checker_rejects_an_overlap():
    graph, plan = plan_of("ad")
    first = graph.nodes[0]
    a, b = first.inputs[0], first.outputs[0]  # alive together at node 0
    plan.offsets[b] = plan.offsets[a]
    with pytest.raises(AssertionError, match="overlap"):
        planner.check(graph, plan)


def test_checker_rejects_out_of_arena():
    graph, plan = plan_of("ad")
    plan.offsets[graph.outputs[0]] = plan.arena_size - 4
    with pytest.raises(AssertionError, match="outside the arena"):
        planner.check(graph, plan)


def test_arena_matches_live_set_bound_on_chains():
    """kws, ic and ad are chains (ic: short residual branches) where greedy-by-size reaches the bound."""
    for case in ("kws", "ic", "ad"):
        graph, plan = plan_of(case)
        assert plan.arena_size == plan.lower_bound, case


def test_lifetimes_cover_inputs_and_outputs():
    graph, plan = plan_of("kws")
    span = planner.lifetimes(graph)
    assert span[graph.inputs[0]][0] == -1
    assert span[graph.outputs[0]][1] == len(graph.nodes)
    assert np.all([plan.offsets[t] % planner.ALIGN == 0 for t in span])
