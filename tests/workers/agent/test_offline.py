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
from workers.agent.backends.offline import (
    CONFIG_TAG,
    TAG,
    Call,
    OfflineResearcher,
    parse_config,
    preferred,
    search_space,
    source,
)
from workers.agent.records import ExecData, PostsData, PostSummary, SubmissionData
from workers.agent.search import Config, Search


def test_every_family_renders_a_few_lines_over_the_builtins_at_its_defaults_and_extremes(tmp_path):
    search = Search(search_space())
    for family, params in search_space().items():
        for config in (
            search.default(family),
            Config.of(family, {p.name: p.low for p in params}),
            Config.of(family, {p.name: p.high for p in params}),
        ):
            assert parse_config(config.slug) == config  # posts and notes name it by its slug
            TypeAdapter(Tag).validate_python(CONFIG_TAG + config.key)  # the forum takes its key as a tag
            text = source(config)
            assert "from w2s.methods.builtin import" in text and text.count("def ") == 1 and len(text) < 400
            file = tmp_path / f"{config.key}.py"
            file.write_text(text)
            assert callable(load_method(str(file)).run)


def test_the_builtin_directions_start_on_distinct_families():
    from workers.agent.prompts import load_directions

    firsts = [preferred(d)[:1] for d in load_directions("builtin", 8)]
    named = [f[0] for f in firsts if f]
    assert len(named) == len(set(named)) >= 7


def test_a_direction_s_families_come_first_and_researchers_differ():
    first = OfflineResearcher("a", "Noisy-label learning").search.propose([])
    assert first is not None and first.family == "gce"
    firsts = {OfflineResearcher(f"r{i}", "Evolutionary search").search.propose([]).family for i in range(8)}
    assert len(firsts) > 1


def test_a_spec_renders_its_steps_and_refuses_unknown_or_out_of_bounds_parameters():
    spec = MethodSpec.of(("consistency", {"k": 30}), ("logconf", {"aux": 0.25}))
    assert spec.slug == "consistency-logconf-k30-aux0.25"
    assert "labels = consistency.relabel(ctx, ctx.weak_labels, consistency.Params(k=30))" in spec.render()
    assert "return logconf.run(ctx, logconf.Params(aux=0.25), labels=labels)" in spec.render()
    assert "gce.Params(hard=True)" in MethodSpec.of(("gce", {"hard": 1})).render()
    with pytest.raises(ValueError, match="takes no keep"):
        MethodSpec.of(("vanilla", {"keep": 0.5}))
    with pytest.raises(ValueError, match="outside"):
        MethodSpec.of(("confident", {"keep": 1.5}))
    with pytest.raises(ValueError, match="whole number"):
        MethodSpec.of(("consistency", {"k": 2.5}))
    with pytest.raises(ValueError, match="has no relabel"):
        MethodSpec.of(("hard", {}), ("vanilla", {}))
    with pytest.raises(ValueError, match="unknown built-in"):
        MethodSpec.of(("nope", {}))


def call(name: str, data=None, text: str = "", is_error: bool = False, **arguments) -> Call:
    return Call(name, arguments, text, is_error, data)


def test_the_policy_reads_structured_results_not_text():
    policy = OfflineResearcher("me", "Data reweighting")
    started = [call("forum_list", PostsData(posts=[])), call("notebook_read", text="(the notebook is empty)")]
    say, tool, claim = policy.decide(started)
    default = policy.search.default("confident")
    assert tool == "forum_post" and claim["type"] == "hypothesis" and claim["tags"] == [TAG, "claim"]
    assert claim["title"] == f"[baseline policy] trying {default.slug}"
    started = [*started, call("forum_post", is_error=True, **claim)]  # a failed claim does not stop the work
    say, tool, arguments = policy.decide(started)
    path = f"methods/confident-{default.key}.py"
    assert tool == "write_file" and arguments["path"] == path
    interrupted = [*started, call("write_file", is_error=True, path=arguments["path"], content=arguments["content"])]
    assert policy.decide(interrupted)[1:] == ("write_file", arguments)  # a write a stop cut off is done again
    wrote = [*started, call("write_file", path=arguments["path"], content=arguments["content"])]
    assert policy.decide(wrote)[1] == "bash"
    # The text says exit code 0; the structured result says the compile failed: the result decides.
    failed = policy.decide([*wrote, call("bash", ExecData(exit_code=1), text="exit code 0\n")])
    assert failed[1] == "notebook_append" and "did not compile" in failed[2]["text"]
    cut = policy.decide([*wrote, call("bash", None, text="not run: stopped", is_error=True, command="c")])
    assert cut[1:] == ("bash", {"command": "c"})  # a compile a stop cut off runs again
    compiled = [*wrote, call("bash", ExecData(exit_code=0), text="whatever")]
    assert policy.decide(compiled)[1:] == ("scorer_submit_method", {"path": path})
    submitted = [*compiled, call("scorer_submit_method", SubmissionData(id="s9", status="queued"), text="{}")]
    assert policy.decide(submitted)[2]["submission_id"] == "s9"
    running = [*submitted, call("scorer_status", SubmissionData(id="s9", status="running"))]
    assert policy.decide(running)[1] == "scorer_status"
    refused = policy.decide([*compiled, call("scorer_submit_method", text="quota", is_error=True)])
    assert "submission refused" in refused[2]["text"]


def test_the_policy_votes_for_the_best_other_result_then_posts_its_own():
    others = [
        PostSummary(id=1, author="other", title="a", tags=[TAG], verified_pgr=0.4),
        PostSummary(id=2, author="other", title="b", tags=[TAG], verified_pgr=0.6),
        PostSummary(id=3, author="me", title="c", tags=[TAG], verified_pgr=0.9),
    ]
    done = SubmissionData(id="s1", status="done", pgr=0.65, ladder_moved=True, flags=[])
    config = Config.of("confident", {"confident.keep": 0.3})
    history = [
        call("forum_list", PostsData(posts=others)),
        call("notebook_read", text=""),
        call("write_file", path=f"methods/confident-{config.key}.py", content=source(config)),
        call("bash", ExecData(exit_code=0)),
        call("scorer_submit_method", SubmissionData(id="s1", status="queued")),
        call("scorer_status", done),
    ]
    policy = OfflineResearcher("me")
    assert policy.decide(history)[1:] == ("forum_vote", {"post_id": 2, "value": 1})
    _, tool, post = policy.decide([*history, call("forum_vote", {}, post_id=2, value=1)])
    assert tool == "forum_post" and post["type"] == "negative-result"  # 0.65 is below the best verified 0.9
    assert post["tags"] == [TAG, f"cfg.{config.key}", "confident"] and "submission_id" not in post
    assert post["title"] == "[baseline policy] confident confident.keep=0.3: PGR 0.65"
    note = policy.decide([*history, call("forum_post")])[2]["text"]
    assert note.startswith("config confident confident.keep=0.3: done pgr=0.65") and "(submission s1)" in note


def test_the_policy_learns_from_shared_results_and_never_repeats_a_configuration():
    policy = OfflineResearcher("me", seed=1)
    families = list(search_space())
    shared = [
        PostSummary(
            id=i,
            author="other",
            title=f"[baseline policy] {policy.search.default(f).slug}: PGR 0.5",
            tags=[TAG],
            verified_pgr=0.9 if f == "logconf" else None,
        )
        for i, f in enumerate(families)
    ]
    mine = Config.of("logconf", {"logconf.aux": 0.4, "logconf.warmup": 0.2})
    history = [call("forum_list", PostsData(posts=shared)), call("notebook_read", text=f"config {mine.slug}: done")]
    _, tool, claim = policy.decide(history)
    assert tool == "forum_post"
    config = parse_config(claim["title"].removeprefix("[baseline policy] trying "))
    assert config is not None and config not in {policy.search.default(f) for f in families} and config != mine
    # every family has been explored and only logconf raised a ladder: the search tunes logconf
    assert config.family == "logconf"
    # a claim by another researcher takes its configuration out of the search, like a result
    claimed = PostSummary(id=99, author="other", title=claim["title"], tags=[TAG, "claim"], verified_pgr=None)
    again = [call("forum_list", PostsData(posts=[claimed, *shared])), history[1]]
    assert policy.decide(again)[2]["title"] != claim["title"]
    limited = OfflineResearcher("me", max_experiments=1)
    assert limited.decide(history) is None  # one experiment in the notebook: its budget is spent


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
    combined = jailed(source(Config.of("consistency+confident", {"consistency.k": 15, "confident.keep": 0.7})))
    assert combined.shape == same.shape and not np.allclose(combined, same)
