"""The offline researcher: its methods import and parameterise the built-ins (and run in the scorer's jail),
and its policy reads the tools' structured results, not their text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import TypeAdapter

from services.forum.contract import Tag
from w2s.methods import load_method
from w2s.methods.spec import MethodSpec
from workers.agent.offline import CONFIG_TAG, TAG, Call, OfflineResearcher, all_configs, ordered_configs, source
from workers.agent.records import ExecData, PostsData, PostSummary, SubmissionData


def test_every_configuration_is_a_few_lines_over_the_builtins(tmp_path):
    configs = all_configs()
    assert len({c.slug for c in configs}) == len(configs)
    for config in configs:
        TypeAdapter(Tag).validate_python(CONFIG_TAG + config.slug)  # the forum takes it as a tag
        text = source(config)
        assert "from w2s.methods.builtin import" in text and text.count("def ") == 1 and len(text) < 400
        file = tmp_path / f"{config.slug}.py"
        file.write_text(text)
        assert callable(load_method(str(file)).run)
    assert {c.slug for c in ordered_configs("Simplicity bias", 0)[:2]} == {"hard", "vanilla"}


def test_a_spec_renders_its_steps_and_refuses_unknown_parameters():
    spec = MethodSpec.of(("consistency", {"k": 30}), ("logconf", {"aux": 0.25}))
    assert spec.slug == "consistency-logconf-k30-aux0.25"
    assert "labels = consistency.relabel(ctx, ctx.weak_labels, k=30)" in spec.render()
    assert "return logconf.run(ctx, labels=labels, aux=0.25)" in spec.render()
    with pytest.raises(ValueError, match="takes no keep"):
        MethodSpec.of(("vanilla", {"keep": 0.5}))
    with pytest.raises(ValueError, match="has no relabel"):
        MethodSpec.of(("hard", {}), ("vanilla", {}))
    with pytest.raises(ValueError, match="unknown built-in"):
        MethodSpec.of(("nope", {}))


def call(name: str, data=None, text: str = "", is_error: bool = False, **arguments) -> Call:
    return Call(name, arguments, text, is_error, data)


def test_the_policy_reads_structured_results_not_text():
    policy = OfflineResearcher("me", "Data reweighting")
    started = [call("forum_list", PostsData(posts=[])), call("notebook_read", text="(the notebook is empty)")]
    say, tool, arguments = policy.decide(started)
    assert tool == "write_file" and arguments["path"] == "methods/confident-keep0.5.py"
    wrote = [*started, call("write_file", path=arguments["path"], content=arguments["content"])]
    assert policy.decide(wrote)[1] == "bash"
    # The text says exit code 0; the structured result says the compile failed: the result decides.
    failed = policy.decide([*wrote, call("bash", ExecData(exit_code=1), text="exit code 0\n")])
    assert failed[1] == "notebook_append" and "did not compile" in failed[2]["text"]
    compiled = [*wrote, call("bash", ExecData(exit_code=0), text="whatever")]
    assert policy.decide(compiled)[1:] == ("scorer_submit_method", {"path": "methods/confident-keep0.5.py"})
    submitted = [*compiled, call("scorer_submit_method", SubmissionData(id="s9", status="queued"), text="{}")]
    assert policy.decide(submitted)[2]["submission_id"] == "s9"
    running = [*submitted, call("scorer_status", SubmissionData(id="s9", status="running"))]
    assert policy.decide(running)[1] == "scorer_status"
    refused = policy.decide([*compiled, call("scorer_submit_method", text="quota", is_error=True)])
    assert "submission refused" in refused[2]["text"]


def test_the_policy_votes_for_the_best_other_result_then_posts_its_own():
    others = [
        PostSummary(id=1, author="other", title="a", tags=[TAG, "cfg.hard"], verified_pgr=0.4),
        PostSummary(id=2, author="other", title="b", tags=[TAG, "cfg.vanilla"], verified_pgr=0.6),
        PostSummary(id=3, author="me", title="c", tags=[TAG], verified_pgr=0.9),
    ]
    done = SubmissionData(id="s1", status="done", pgr=0.65, ladder_moved=True, flags=[])
    history = [
        call("forum_list", PostsData(posts=others)),
        call("notebook_read", text=""),
        call("write_file", path="methods/confident-keep0.3.py"),
        call("bash", ExecData(exit_code=0)),
        call("scorer_submit_method", SubmissionData(id="s1", status="queued")),
        call("scorer_status", done),
    ]
    policy = OfflineResearcher("me")
    assert policy.decide(history)[1:] == ("forum_vote", {"post_id": 2, "value": 1})
    _, tool, post = policy.decide([*history, call("forum_vote", {}, post_id=2, value=1)])
    assert tool == "forum_post" and post["type"] == "negative-result"  # 0.65 is below the best verified 0.9
    assert post["tags"] == [TAG, "cfg.confident-keep0.3", "confident"] and "submission_id" not in post
    note = policy.decide([*history, call("forum_post")])[2]["text"]
    assert note.startswith("config confident-keep0.3: done pgr=0.65") and "(submission s1)" in note


@pytest.fixture(scope="module")
def job():
    from services.scorer.jail import check_prerequisites
    from w2s.baselines import get_baseline
    from w2s.scoring import make_job
    from w2s.tasks import TASKS

    check_prerequisites()
    task = TASKS["rt-polarity"]
    baseline, _ = get_baseline(task, 0, "cpu")
    return make_job(task, baseline, task.splits["test_public"].inputs)


def test_generated_methods_run_in_the_scorers_jail_as_the_builtins_do(job):
    from services.scorer.jail import run_in_jail

    def jailed(text: str) -> np.ndarray:
        run = run_in_jail(job, text, timeout_s=300, memory_mb=4096)
        assert run.events == []
        return run.predictions

    builtin = Path(load_method("confident").run.__code__.co_filename).read_text()
    same = jailed(MethodSpec.of(("confident", {"keep": 0.5})).render())
    assert np.allclose(same, jailed(builtin))  # the same method as the built-in's own file
    combined = jailed(source(MethodSpec.of(("consistency", {"k": 15}), ("confident", {"keep": 0.7}))))
    assert combined.shape == same.shape and not np.allclose(combined, same)
