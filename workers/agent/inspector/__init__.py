"""The inspector: reads one agent's evidence (transcript, workspace snapshot, submitted sources, forum posts)
and marks it PASS, SUSPICIOUS or FAIL with evidence lines (``verdict.inspect``); ``judge.ClaudeJudge`` adds an
optional model's opinion, which can only make the verdict stricter. See docs/agents.md, "Inspector"."""
