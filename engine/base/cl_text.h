/* Text from files and users, made safe to print in a message: control bytes (a terminal would
 * obey them) and bytes that are not UTF-8 become visible escapes, and long text is cut. */
#pragma once
#include <glib.h>

/* s with every byte < 0x20, 0x7F and every byte of invalid UTF-8 written as \xnn (lower-case hex; tab as \t,
 * newline as \n, carriage return as \r), cut to at most max_chars characters with "…" after
 * (max_chars <= 0: no cut). NULL gives "(null)". */
char *cl_text_escape (const char *s, int max_chars);
