/*
 * commands.h - the command table: EV_CMD(name, one-line summary).
 * Each command lives in src/cli/cmd_<name>.c as cmd_<name>().  Commands are
 * declared weak so that the table can list a command before its file lands;
 * main() refuses a command whose implementation is not linked in.
 * (No include guard: this file is expanded more than once.)
 */
EV_CMD(init, "create a data directory: the ledger store and the signing key")
EV_CMD(append, "append entries to the ledger (one, or JSON lines with --stdin)")
EV_CMD(log, "list ledger entries, filtered by kind, subject and time")
EV_CMD(checkpoint, "sign and record a checkpoint (tree size, root, time)")
EV_CMD(verify, "recompute every hash, node and checkpoint signature")
EV_CMD(prove, "inclusion and consistency proofs, and offline proof checks")
EV_CMD(ingest, "read log lines (files or stdin), record them, run the alarm rules")
EV_CMD(sources, "the log-source inventory: add, list, category coverage")
EV_CMD(rules, "Sigma alarm rules: lint, test against a log file")
EV_CMD(alerts, "list alerts and acknowledge them")
EV_CMD(incident, "incident workflow: open, classify, act, notify, review, close, show")
EV_CMD(clocks, "regulatory clocks: running, due soon, overdue")
EV_CMD(rebuild, "drop and rebuild every projection from the ledger")
EV_CMD(pack, "evidence packs: export for assessors, verify offline")
EV_CMD(serve, "run the daemon: syslog listeners, file tails, alarm rules")
