/* err.c - the one-line error messages every module returns (base.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "grader/base.h"

static void vformat(struct gr_err *err, int code, const char *fmt, va_list ap)
{
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int gr_err_set(struct gr_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vformat(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int gr_err_sys(struct gr_err *err, int code, int errno_value, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err)
		return code;
	va_start(ap, fmt);
	vformat(err, code, fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errno_value));
	return code;
}
