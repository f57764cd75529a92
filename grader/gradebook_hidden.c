/*
 * gradebook_hidden.c - what a student may see of a cell holding hidden tests:
 * its status, its points and the name of the exception that failed it. A
 * hidden test hands its expected values to the notebook's code (as arguments,
 * as the operand of a comparison the student's __eq__ answers), so what that
 * code printed, displayed or raised in the cell may carry them; only the
 * name of a built-in exception is published, since a class the notebook
 * defines can be named anything. The same holds for every cell that runs
 * after it: the notebook's code may have kept those values and prints them
 * there.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "grader/gradebook.h"

/* Python 3.11's built-in exceptions (the grader's own DeadKernelError too). */
static const char *const builtin_names[] = {
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeadKernelError",
    "DeprecationWarning",
    "EOFError",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "NotADirectoryError",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PermissionError",
    "ProcessLookupError",
    "RecursionError",
    "ReferenceError",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
};

/* The built-in name s..s+len spells, or NULL. */
static const char *builtin(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(builtin_names) / sizeof(builtin_names[0]); i++)
		if (strlen(builtin_names[i]) == len && !strncmp(builtin_names[i], s, len))
			return builtin_names[i];
	return NULL;
}

const char *gb_hidden_ename(const char *ename)
{
	const char *name = ename ? builtin(ename, strlen(ename)) : NULL;

	return name ? name : "an exception";
}

/*
 * The exception line is the last one beginning with a built-in name followed
 * by ':' or nothing; not simply the last line, which may be the last line of
 * a message spanning several.
 */
const char *gb_hidden_error(const char *traceback)
{
	const char *found = NULL;

	for (const char *s = traceback; s && *s;) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s), k = 0;

		while (k < n && (s[k] == '_' || (s[k] >= 'A' && s[k] <= 'Z') ||
				 (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= '0' && s[k] <= '9')))
			k++;
		if (k && (k == n || s[k] == ':' || s[k] == '\r' || s[k] == ' ') && builtin(s, k))
			found = builtin(s, k);
		s = e ? e + 1 : s + n;
	}
	return found ? found : "an exception";
}

double gb_grade_shown_time(const struct gb_cell *cell, const struct gb_grade *g)
{
	return !g || gb_grade_withheld(cell, g, NULL) ? NAN : g->time;
}

const char *gb_withheld_note(bool hidden, bool after)
{
	return hidden ? GB_HIDDEN_NOTE : after ? GB_AFTER_HIDDEN_NOTE : NULL;
}

bool gb_grade_withheld(const struct gb_cell *cell, const struct gb_grade *g, const char **why)
{
	const char *note =
	    gb_withheld_note(cell && cell->hidden_tests, g && g->output.after_hidden);

	if (why)
		*why = note;
	return note != NULL;
}
