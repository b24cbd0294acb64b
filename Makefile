# 政务服务智能客服 — the README's commands.
.PHONY: run stop test eval bench lint train

run:    ## start everything (bot, action server, desk, private Redis, SQLite) and print the URLs
	bash scripts/run.sh

stop:   ## stop a `make run` started in the background
	@if [ -f .run/run.pid ]; then kill -TERM "$$(cat .run/run.pid)" && echo "stopping (see .run/*.log)"; \
	else echo "nothing to stop: no .run/run.pid"; fi

test:   ## set up what the tests need and run the whole suite
	bash scripts/test.sh

eval:   ## train ours and a baseline on a fixed split; write docs/benchmarks.md
	bash scripts/eval.sh

bench:  ## load and latency benchmarks against 127.0.0.1; write docs/benchmarks.md
	bash scripts/bench.sh

train:  ## train the bot model (cached by a hash of its inputs)
	bash scripts/train_bot.sh

lint:   ## ruff + mypy on the desk
	.venv/bin/ruff check agent_desk channels tests loadtests
	.venv/bin/mypy agent_desk channels
