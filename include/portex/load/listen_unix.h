/* SPDX-License-Identifier: MIT */
/* The Unix socket that `portex serve --listen unix:PATH` accepts on (server.c). */
#ifndef PORTEX_LOAD_LISTEN_UNIX_H
#define PORTEX_LOAD_LISTEN_UNIX_H

#include <stddef.h>

/*
 * Binds and listens on path into *fd (non-blocking). A socket file nobody
 * accepts on (left by a server that died) is replaced; a live one, or a file
 * that is no socket, is an error. *created is set once path was bound (the
 * caller unlinks it at the end). 0, or -1 with the reason in err.
 */
int px_unix_listen(const char *path, int *fd, int *created, char *err, size_t errlen);

#endif
