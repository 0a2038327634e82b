/* SPDX-License-Identifier: MIT */
/* nginx as the lab's reverse proxy: found, configured in a private tmpfs, started, counted. */
#include "portex/cmd/lab_nginx.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int px_nginx_find(char *out, size_t outlen)
{
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin:/usr/local/sbin", path ? path : "");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if (*d == '\0')
            continue;
        int n = snprintf(out, outlen, "%s/nginx", d);
        if (n > 0 && (size_t)n < outlen && access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

int px_nginx_conf_text(const struct px_nginx_conf *c, char *out, size_t outlen)
{
    char keep[48] = "";
    if (c->keepalive)
        snprintf(keep, sizeof(keep), " keepalive %u;", c->keepalive);
    const char *http11 = c->http11 ? "      proxy_http_version 1.1;\n"
                                     "      proxy_set_header Connection \"\";\n"
                                   : "";
    /* master_process off: one process, still uid 0, which keeps its parent-death
     * signal; a master's workers would switch user, lose it and outlive the lab.
     * Every path nginx writes is under dir, the five temp paths included (Debian's
     * defaults are in /var/lib/nginx). The errno-99 line is logged at crit. `user root`:
     * one process never switches user anyway, and the temp paths are chown()ed to it,
     * which fails for nobody in a user namespace that maps only root (an unprivileged lab). */
    int n = snprintf(out, outlen,
                     "daemon off;\n"
                     "master_process off;\n"
                     "user root root;\n"
                     "worker_processes 1;\n"
                     "pid %s/nginx.pid;\n"
                     "error_log %s/error.log error;\n"
                     "events { worker_connections 8192; }\n"
                     "http {\n"
                     "  access_log off;\n"
                     "  client_body_temp_path %s/body;\n"
                     "  proxy_temp_path %s/proxy;\n"
                     "  fastcgi_temp_path %s/fastcgi;\n"
                     "  uwsgi_temp_path %s/uwsgi;\n"
                     "  scgi_temp_path %s/scgi;\n"
                     "  upstream backend { server %s;%s }\n"
                     "  server {\n"
                     "    listen %s backlog=4096;\n"
                     "    location / {\n"
                     "      proxy_pass http://backend;\n"
                     "%s"
                     "    }\n"
                     "  }\n"
                     "}\n",
                     c->dir, c->dir, c->dir, c->dir, c->dir, c->dir, c->dir, c->upstream, keep,
                     c->listen, http11);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int px_nginx_private_tmp(char *err, size_t errlen)
{
    if (unshare(CLONE_NEWNS) < 0) {
        snprintf(err, errlen, "unshare(CLONE_NEWNS): %s", strerror(errno));
        return -1;
    }
    /* Nothing mounted here may reach the host's mount namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("portex-nginx", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0700") < 0) {
        snprintf(err, errlen, "a private tmpfs on /tmp for nginx: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Writes text to path. 0, or -1 with the reason. */
static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* In the forked child: die with the parent, signals as nginx expects them, exec. */
__attribute__((noreturn)) static void exec_nginx(const char *bin, const char *dir, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before the line above */
        _exit(127);
    sigset_t none; /* main() blocked SIGINT and SIGTERM; exec would keep the block */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) { /* stdout may carry the lab's JSON: nginx writes nothing there */
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    char conf[256], prefix[256], log[256];
    snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
    snprintf(prefix, sizeof(prefix), "%s/", dir);
    snprintf(log, sizeof(log), "%s/error.log", dir);
    execl(bin, "nginx", "-e", log, "-p", prefix, "-c", conf, (char *)NULL);
    _exit(127);
}

/* The last line of nginx's log (why it did not start), or a default. */
static void last_log_line(const char *dir, char *out, size_t outlen)
{
    char path[256], line[512] = "";
    snprintf(path, sizeof(path), "%s/error.log", dir);
    snprintf(out, outlen, "it exited at once");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL)
        if (line[0] != '\n')
            snprintf(out, outlen, "%.*s", (int)strcspn(line, "\n"), line);
    fclose(f);
}

/* Waits up to 5 s for the pid file, which nginx writes once it listens. 0, or -1. */
static int wait_ready(pid_t pid, const char *dir)
{
    char pidfile[256];
    snprintf(pidfile, sizeof(pidfile), "%s/nginx.pid", dir);
    for (int i = 0; i < 500; i++) {
        if (access(pidfile, F_OK) == 0)
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
        nanosleep(&ts, NULL);
    }
    px_nginx_stop(pid);
    return -1;
}

pid_t px_nginx_start(const char *bin, const struct px_nginx_conf *c, char *err, size_t errlen)
{
    char text[4096], path[256];
    snprintf(path, sizeof(path), "%s/nginx.conf", c->dir);
    if (mkdir(c->dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot make %s: %s", c->dir, strerror(errno));
        return -1;
    }
    if (px_nginx_conf_text(c, text, sizeof(text)) < 0 || write_file(path, text, err, errlen) < 0)
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        exec_nginx(bin, c->dir, parent);
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork nginx: %s", strerror(errno));
        return -1;
    }
    if (wait_ready(pid, c->dir) < 0) {
        char why[400];
        last_log_line(c->dir, why, sizeof(why));
        snprintf(err, errlen, "nginx (%s) did not start: %s", bin, why);
        return -1;
    }
    return pid;
}

void px_nginx_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int64_t px_nginx_count_eaddrnotavail(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    /* nginx calls no setlocale(): its strerror text is English, the number is stable. */
    char line[2048];
    int64_t n = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, "(99: ") != NULL)
            n++;
    fclose(f);
    return n;
}
