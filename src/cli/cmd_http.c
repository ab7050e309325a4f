/*
 * cmd_http.c - `evident http`: run the web UI and JSON API alone, in the
 * foreground, until SIGINT or SIGTERM.  `evident serve` starts the same
 * server (ev_http_start) next to the intake; this command is for tests and
 * for installations that run the intake elsewhere.
 *
 * On start it prints one line, "listening on http(s)://ADDR:PORT", so a
 * test can ask for port 0 and learn the port.  --routes prints the role
 * matrix (the route table) and exits.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "http/http.h"

int
cmd_http(struct ev_cli *cli, int argc, char **argv)
{
	const char *listen = NULL, *config = NULL, *cert = NULL, *key = NULL;
	int routes = 0, public_report = 0, npos, status, sig = 0;
	struct ev_http_config cfg;
	struct ev_err err = { 0 };
	struct ev_http *h = NULL;
	sigset_t set;
	const struct ev_opt opts[] = {
		{ "listen", "ADDR:PORT", "address to listen on (default 127.0.0.1:8319; port 0 picks one)",
		    &listen, NULL, NULL },
		{ "config", "FILE", "YAML settings (listen, tls_cert, tls_key, public_report, body_max, ...)",
		    &config, NULL, NULL },
		{ "tls-cert", "FILE", "serve HTTPS with this PEM certificate (chain)", &cert, NULL, NULL },
		{ "tls-key", "FILE", "... and this PEM private key", &key, NULL, NULL },
		{ "public-report", NULL, "serve the public reporting page /report", NULL,
		    &public_report, NULL },
		{ "routes", NULL, "print the route table (method, path, roles) and exit", NULL, &routes,
		    NULL },
		{ NULL, NULL, NULL, NULL, NULL, NULL },
	};

	if (ev_cli_parse(cli, argc, argv, opts,
		"evident http [--listen ADDR:PORT] [--config FILE] [--tls-cert FILE --tls-key FILE] "
		"[--public-report] [--routes]",
		&npos, &status))
		return status;
	if (npos)
		return ev_cli_usage(cli, "unexpected argument '%s'", argv[1]);
	if (routes) {
		ev_http_print_routes(stdout);
		return 0;
	}
	ev_http_config_defaults(&cfg, cli->data_dir);
	if (config && ev_http_config_load(config, &cfg, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	if (listen && snprintf(cfg.listen, sizeof(cfg.listen), "%s", listen) >= (int)sizeof(cfg.listen))
		return ev_cli_usage(cli, "--listen is too long");
	if (cert && snprintf(cfg.tls_cert, sizeof(cfg.tls_cert), "%s", cert) >= (int)sizeof(cfg.tls_cert))
		return ev_cli_usage(cli, "--tls-cert is too long");
	if (key && snprintf(cfg.tls_key, sizeof(cfg.tls_key), "%s", key) >= (int)sizeof(cfg.tls_key))
		return ev_cli_usage(cli, "--tls-key is too long");
	if (public_report)
		cfg.public_report = 1;
	if (!!cfg.tls_cert[0] != !!cfg.tls_key[0])
		return ev_cli_usage(cli, "--tls-cert and --tls-key go together");

	/* Block the stop signals before MHD starts its threads, so they all inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ev_http_start(&cfg, &h, &err) != EV_OK)
		return ev_cli_fail(cli, &err);
	printf("listening on %s://%s\n", ev_http_tls(h) ? "https" : "http", ev_http_bound(h));
	fflush(stdout);
	sigwait(&set, &sig);
	ev_http_stop(h);
	return 0;
}
