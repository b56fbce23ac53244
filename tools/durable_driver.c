/* assessor's driver for durable-rules' C engine, compiled into its Python binding.

   tools/durable_build.py copies this file beside the sdist's src/rulespy/rules.c and includes
   it there, so it shares that file's RulesError and adds two functions and two exception types
   to its module:

   assessor_batch(sid, stage, facts, specs, max_number, max_string) -> str
       The JSON text of a batch: of `facts` (a list or tuple of objects with `id`, `scope`,
       `stage` and `values`), those of `stage` whose scope is in `specs`, each written as
       {"id":"<position in facts>","sid":"<sid>",<head><values>}, then the trigger
       {"kind":"$eval","id":"t","sid":"<sid>"}. specs[scope] is (head, names, keys): the text
       after the sid, the value names to write and, for each, the text before it (',"v_x":').
       Integers beyond +-max_number, non-finite floats, strings over max_string characters and
       other types raise RefusedValue(fact, name, value); a value missing, MissingValue(fact, name).
       A sid holding what JSON would escape and a negative max_number or max_string raise ValueError.
   assessor_run(shards, sid, stage, facts, max_number, max_string) -> [(rule id, ids)]
       For each shard (handle, specs, rules) of the tuple `shards`, in order: the same batch,
       asserted into the ruleset `handle` unless it holds no fact; then every action of the
       session started and completed and the session deleted (one in which no action started,
       after a lone trigger has started the sentinel's, C1); for each action message but the
       sentinel's, its rule's id (rules[n] for the rule named "r<n>"; rules is a tuple) with the
       sorted ids of its facts. All these pairs, sorted. These are the C calls the Python driver
       made one by one (probe section 8), for every shard of a stage in one call.

   Reading facts, values and ids runs Python code, which may change or free what the caller
   passed: both functions read a tuple of the facts, and hold each spec while they use it.

   Everything here mirrors assessor/engines/durable.py, which documents the why (P4, P6, C1). */

#include <float.h>
#include <math.h>
#include <string.h>

#define ASSESSOR_SENTINEL "sentinel"
#define ASSESSOR_FRAME "{\"m\":{\"id\":\""

typedef struct {
    char *text;
    size_t length;
    size_t size;
} AssessorText;

static int assessorAppend(AssessorText *out, const char *text, size_t length) {
    if (length > (size_t)PY_SSIZE_T_MAX - 1 - out->length) {  /* the text must fit a Python str */
        PyErr_NoMemory();
        return -1;
    }
    if (out->length + length + 1 > out->size) {
        size_t size = out->size ? out->size : 4096;
        while (size < out->length + length + 1) {
            size *= 2;
        }
        char *grown = realloc(out->text, size);
        if (!grown) {
            PyErr_NoMemory();
            return -1;
        }
        out->text = grown;
        out->size = size;
    }
    memcpy(out->text + out->length, text, length);
    out->length += length;
    out->text[out->length] = '\0';
    return 0;
}

static int assessorAppendStr(AssessorText *out, PyObject *str) {
    Py_ssize_t length;
    const char *text = PyUnicode_AsUTF8AndSize(str, &length);
    return text ? assessorAppend(out, text, (size_t)length) : -1;
}

/* json.encoder.encode_basestring (ensure_ascii=False), written as UTF-8 */
static int assessorAppendString(AssessorText *out, PyObject *str) {
    Py_ssize_t length;
    const char *text = PyUnicode_AsUTF8AndSize(str, &length);
    if (!text || assessorAppend(out, "\"", 1)) {
        return -1;
    }
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < length; ++i) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        char escaped[8];
        switch (c) {
        case '"': strcpy(escaped, "\\\""); break;
        case '\\': strcpy(escaped, "\\\\"); break;
        case '\b': strcpy(escaped, "\\b"); break;
        case '\f': strcpy(escaped, "\\f"); break;
        case '\n': strcpy(escaped, "\\n"); break;
        case '\r': strcpy(escaped, "\\r"); break;
        case '\t': strcpy(escaped, "\\t"); break;
        default: snprintf(escaped, sizeof escaped, "\\u%04x", c);
        }
        if (assessorAppend(out, text + start, (size_t)(i - start)) || assessorAppend(out, escaped, strlen(escaped))) {
            return -1;
        }
        start = i + 1;
    }
    return assessorAppend(out, text + start, (size_t)(length - start)) || assessorAppend(out, "\"", 1) ? -1 : 0;
}

static int assessorAppendNumber(AssessorText *out, long long number) {
    char text[24], *end = text + sizeof text, *start = end;
    unsigned long long magnitude = number < 0 ? 0ULL - (unsigned long long)number : (unsigned long long)number;
    do {
        *--start = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (number < 0) {
        *--start = '-';
    }
    return assessorAppend(out, start, (size_t)(end - start));
}

/* 1 with `number` written in fixed notation with the fewest decimals (at most 17) that the
   engine's parser (strtod) reads back as `number`; 0, nothing written, if there is none whose
   digits stay below 2^53; -1 error set. Exact, not approximate: the digits m and 10^k are
   doubles exactly (m <= 2^53, k <= 22), so the division m / 10^k rounds the exact quotient to
   the nearest double, as a correctly rounded strtod rounds the text "m / 10^k", and the text
   is kept only if that double is `number`. repr()'s shortest digits need a bignum algorithm,
   which cost as much as writing the rest of the batch; repr() stays the fallback. Needs
   divisions in double precision (FLT_EVAL_METHOD 0, as on x86-64 and ARM64); else the fallback. */
static int assessorAppendFixed(AssessorText *out, double number) {
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    static const double powers[18] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                      1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
    const double limit = 9007199254740992.0;  /* 2^53 */
    double magnitude = fabs(number);
    for (int decimals = 0; decimals < 18; ++decimals) {
        double scaled = magnitude * powers[decimals];
        if (!(scaled < limit)) {
            return 0;
        }
        double digits = floor(scaled + 0.5);
        if (digits / powers[decimals] != magnitude) {
            continue;
        }
        /* "[-]int.frac", at least one digit on each side of the point */
        char text[48], *end = text + sizeof text, *start = end;
        unsigned long long m = (unsigned long long)digits;
        for (int i = 0; i < decimals; ++i) {
            *--start = (char)('0' + m % 10);
            m /= 10;
        }
        if (!decimals) {
            *--start = '0';
        }
        *--start = '.';
        do {
            *--start = (char)('0' + m % 10);
            m /= 10;
        } while (m);
        if (signbit(number)) {
            *--start = '-';
        }
        return assessorAppend(out, start, (size_t)(end - start)) ? -1 : 1;
    }
#endif
    return 0;
}

/* 0 written, 1 a value durable would compare wrongly (the caller says which), -1 error set */
static int assessorAppendValue(AssessorText *out, PyObject *value, long long maxNumber, Py_ssize_t maxString) {
    if (PyUnicode_CheckExact(value)) {
        return PyUnicode_GET_LENGTH(value) > maxString ? 1 : assessorAppendString(out, value);
    }
    if (value == Py_True || value == Py_False) {
        return value == Py_True ? assessorAppend(out, "true", 4) : assessorAppend(out, "false", 5);
    }
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (number == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (overflow || number > maxNumber || number < -maxNumber) {
            return 1;
        }
        return assessorAppendNumber(out, number);
    }
    if (PyFloat_CheckExact(value)) {
        double number = PyFloat_AS_DOUBLE(value);
        if (!isfinite(number)) {
            return 1;
        }
        int fixed = assessorAppendFixed(out, number);
        if (fixed) {
            return fixed < 0 ? -1 : 0;
        }
        char *text = PyOS_double_to_string(number, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);  /* repr() */
        if (!text) {
            return -1;
        }
        /* P6: the engine's parser stops at an exponent with no fraction (1e-05), reads 1.0e-05 */
        char *exponent = strchr(text, 'e');
        int failed;
        if (exponent && !strchr(text, '.')) {
            failed = assessorAppend(out, text, (size_t)(exponent - text)) || assessorAppend(out, ".0", 2) ||
                     assessorAppend(out, exponent, strlen(exponent));
        } else {
            failed = assessorAppend(out, text, strlen(text));
        }
        PyMem_Free(text);
        return failed ? -1 : 0;
    }
    return 1;
}

static PyObject *assessorNames[4];  /* "scope", "stage", "values", "id", interned */

static int assessorAttributes(void) {
    static const char *names[4] = {"scope", "stage", "values", "id"};
    for (int i = 0; i < 4; ++i) {
        if (!assessorNames[i] && !(assessorNames[i] = PyUnicode_InternFromString(names[i]))) {
            return -1;
        }
    }
    return 0;
}

static PyObject *assessorMissingValue, *assessorRefusedValue;

/* The module `m` with the driver's exception types added (tools/durable_build.py patches the
   module's creation to pass through here); NULL, m released, if that fails */
static PyObject *assessorAddTypes(PyObject *m) {
    if (m && (!(assessorMissingValue = PyErr_NewException("durable_rules_engine.MissingValue", NULL, NULL)) ||
              PyModule_AddObjectRef(m, "MissingValue", assessorMissingValue) ||
              !(assessorRefusedValue = PyErr_NewException("durable_rules_engine.RefusedValue", NULL, NULL)) ||
              PyModule_AddObjectRef(m, "RefusedValue", assessorRefusedValue))) {
        Py_CLEAR(m);
    }
    return m;
}

/* Raises type(*args), which the Python driver words for the fact and value concerned; takes
   `args`, a new reference (NULL: the error of making it stands) */
static void assessorSetError(PyObject *type, PyObject *args) {
    if (args) {
        PyErr_SetObject(type, args);
        Py_DECREF(args);
    }
}

/* Whether the functions can use these arguments as they are: a sid JSON needs no escape for (it
   is written unescaped) and limits not negative (-max_number must be a long long); else ValueError */
static int assessorCheckArguments(const char *sid, long long maxNumber, Py_ssize_t maxString) {
    for (const char *c = sid; *c; ++c) {
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) {
            PyErr_SetString(PyExc_ValueError, "sid must not hold quotes, backslashes or control characters");
            return 0;
        }
    }
    if (maxNumber < 0 || maxString < 0) {
        PyErr_SetString(PyExc_ValueError, maxNumber < 0 ? "max_number must not be negative"
                                                        : "max_string must not be negative");
        return 0;
    }
    return 1;
}

/* The facts of one call, each attribute read once however many rulesets take the fact */
typedef struct {
    PyObject *tuple;      /* the facts, a tuple */
    PyObject *stage;
    PyObject **scopes;    /* per fact, new references, NULL until read */
    PyObject **values;    /* likewise */
    signed char *staged;  /* per fact: -1 not yet compared with `stage`, else whether equal */
} AssessorFacts;

static int assessorFactsInit(AssessorFacts *facts, PyObject *given, PyObject *stage) {
    facts->stage = stage;
    facts->scopes = facts->values = NULL;
    facts->staged = NULL;
    facts->tuple = PySequence_Tuple(given);
    if (!facts->tuple || assessorAttributes()) {
        return -1;
    }
    size_t count = (size_t)PyTuple_GET_SIZE(facts->tuple) + 1;
    if (count > ((size_t)PY_SSIZE_T_MAX - count) / (2 * sizeof(PyObject *) + 1)) {
        PyErr_NoMemory();
        return -1;
    }
    facts->scopes = PyMem_Calloc(count, 2 * sizeof(PyObject *) + 1);  /* one block for the three */
    if (!facts->scopes) {
        PyErr_NoMemory();
        return -1;
    }
    facts->values = facts->scopes + count;
    facts->staged = (signed char *)(facts->values + count);
    memset(facts->staged, -1, count);
    return 0;
}

static void assessorFactsFree(AssessorFacts *facts) {
    Py_ssize_t count = facts->tuple ? PyTuple_GET_SIZE(facts->tuple) : 0;
    for (Py_ssize_t i = 0; facts->scopes && i < count; ++i) {
        Py_XDECREF(facts->scopes[i]);
        Py_XDECREF(facts->values[i]);
    }
    PyMem_Free(facts->scopes);
    Py_XDECREF(facts->tuple);
}

/* facts->scopes[i] (borrowed), read if not yet; NULL with an error */
static PyObject *assessorScope(AssessorFacts *facts, Py_ssize_t i) {
    if (!facts->scopes[i]) {
        facts->scopes[i] = PyObject_GetAttr(PyTuple_GET_ITEM(facts->tuple, i), assessorNames[0]);
    }
    return facts->scopes[i];
}

/* Writes the batch of the facts of their stage whose scope is in `specs`; *written is how many.
   Sets MissingValue(fact, name) for a value missing, RefusedValue(fact, name, value) for one
   durable would compare wrongly. Each spec is held while it is used: Python code that runs
   meanwhile may change `specs`. */
static int assessorWriteBatch(AssessorText *out, const char *sid, AssessorFacts *facts, PyObject *specs,
                              long long maxNumber, Py_ssize_t maxString, Py_ssize_t *written) {
    *written = 0;
    out->length = 0;
    if (assessorAppend(out, "[", 1)) {
        return -1;
    }
    size_t sidLength = strlen(sid);
    for (Py_ssize_t position = 0; position < PyTuple_GET_SIZE(facts->tuple); ++position) {
        PyObject *fact = PyTuple_GET_ITEM(facts->tuple, position);
        PyObject *scope = assessorScope(facts, position);
        if (!scope) {
            return -1;
        }
        PyObject *spec = PyDict_GetItemWithError(specs, scope);
        if (!spec) {
            if (PyErr_Occurred()) {
                return -1;
            }
            continue;  /* no rule of this ruleset reads its scope */
        }
        Py_INCREF(spec);
        int failed = 0;
        if (facts->staged[position] < 0) {
            PyObject *factStage = PyObject_GetAttr(fact, assessorNames[1]);
            int same = factStage ? PyObject_RichCompareBool(factStage, facts->stage, Py_EQ) : -1;
            Py_XDECREF(factStage);
            failed = same < 0;
            facts->staged[position] = (signed char)(same == 1);
        }
        if (failed || !facts->staged[position]) {
            Py_DECREF(spec);
            if (failed) {
                return -1;
            }
            continue;
        }
        PyObject *names, *keys;
        if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 3 || !PyTuple_Check(names = PyTuple_GET_ITEM(spec, 1)) ||
            !PyTuple_Check(keys = PyTuple_GET_ITEM(spec, 2)) || PyTuple_GET_SIZE(names) != PyTuple_GET_SIZE(keys)) {
            PyErr_SetString(PyExc_TypeError, "specs values must be (head, names, keys)");
            failed = 1;
        }
        if (failed || (*written ? assessorAppend(out, ",{\"id\":\"", 8) : assessorAppend(out, "{\"id\":\"", 7)) ||
            assessorAppendNumber(out, position) || assessorAppend(out, "\",\"sid\":\"", 9) ||
            assessorAppend(out, sid, sidLength) || assessorAppend(out, "\",", 2) ||
            assessorAppendStr(out, PyTuple_GET_ITEM(spec, 0))) {
            Py_DECREF(spec);
            return -1;
        }
        ++*written;
        if (!facts->values[position]) {
            facts->values[position] = PyObject_GetAttr(fact, assessorNames[2]);
        }
        PyObject *values = facts->values[position];
        failed = !values;
        for (Py_ssize_t i = 0; values && i < PyTuple_GET_SIZE(names) && !failed; ++i) {
            PyObject *name = PyTuple_GET_ITEM(names, i);
            PyObject *value;
            if (PyDict_CheckExact(values)) {  /* as the evaluator gives them: no mapping protocol */
                value = PyDict_GetItemWithError(values, name);
                Py_XINCREF(value);
                if (!value && !PyErr_Occurred()) {
                    PyErr_SetNone(PyExc_KeyError);
                }
            } else {
                value = PyObject_GetItem(values, name);
            }
            if (!value) {
                if (PyErr_ExceptionMatches(PyExc_KeyError)) {
                    PyErr_Clear();
                    assessorSetError(assessorMissingValue, PyTuple_Pack(2, fact, name));
                }
                failed = 1;
                break;
            }
            int done = assessorAppendStr(out, PyTuple_GET_ITEM(keys, i));
            if (!done) {
                done = assessorAppendValue(out, value, maxNumber, maxString);
            }
            if (done == 1) {
                assessorSetError(assessorRefusedValue, PyTuple_Pack(3, fact, name, value));
            }
            Py_DECREF(value);
            failed = done != 0;
        }
        Py_DECREF(spec);
        if (failed || assessorAppend(out, "}", 1)) {
            return -1;
        }
    }
    const char *trigger = ",{\"kind\":\"$eval\",\"id\":\"t\",\"sid\":\"" + (*written ? 0 : 1);
    return assessorAppend(out, trigger, strlen(trigger)) || assessorAppend(out, sid, sidLength) ||
                   assessorAppend(out, "\"}]", 3)
               ? -1
               : 0;
}

static PyObject *assessorBatch(PyObject *self, PyObject *args) {
    const char *sid;
    PyObject *stage, *given, *specs;
    long long maxNumber;
    Py_ssize_t maxString;
    if (!PyArg_ParseTuple(args, "sOOO!Ln", &sid, &stage, &given, &PyDict_Type, &specs, &maxNumber, &maxString) ||
        !assessorCheckArguments(sid, maxNumber, maxString)) {
        return NULL;
    }
    AssessorFacts facts;
    AssessorText out = {NULL, 0, 0};
    Py_ssize_t written;
    PyObject *text = NULL;
    Py_INCREF(specs);  /* the facts' code may drop the caller's last reference */
    if (!assessorFactsInit(&facts, given, stage) &&
        !assessorWriteBatch(&out, sid, &facts, specs, maxNumber, maxString, &written)) {
        text = PyUnicode_DecodeUTF8(out.text, (Py_ssize_t)out.length, NULL);
    }
    Py_DECREF(specs);
    assessorFactsFree(&facts);
    free(out.text);
    return text;
}

static void assessorRulesError(const char *what, unsigned int result) {
    if (result == ERR_OUT_OF_MEMORY) {
        PyErr_NoMemory();
    } else {
        PyErr_Format(RulesError, "Could not %s, error code: %u", what, result);
    }
}

/* The number n of a rule name "r<n>" (decimal, no leading zero) between `name` and `end`, or -1 */
static Py_ssize_t assessorRuleNumber(const char *name, const char *end) {
    if (end - name < 2 || *name != 'r' || (name[1] == '0' && end - name > 2) || end - name > 12) {
        return -1;
    }
    Py_ssize_t number = 0;
    for (const char *c = name + 1; c < end; ++c) {
        if (*c < '0' || *c > '9') {
            return -1;
        }
        number = number * 10 + (*c - '0');
    }
    return number;
}

/* The id of the fact whose position in the batch follows the frame marker at `*frame`, a new
   reference, with *frame moved past it; NULL with RulesError if that is not a position */
static PyObject *assessorFrameFact(const char **frame, PyObject *facts) {
    const char *digits = *frame + strlen(ASSESSOR_FRAME), *c = digits;
    Py_ssize_t count = PyTuple_GET_SIZE(facts), position = 0;
    while (*c >= '0' && *c <= '9' && position <= count) {  /* our ids are positions */
        position = position * 10 + (*c++ - '0');
    }
    if (c == digits || *c != '"' || position >= count) {
        PyErr_SetString(RulesError, "an action message names no fact of the batch");
        return NULL;
    }
    *frame = c;
    return PyObject_GetAttr(PyTuple_GET_ITEM(facts, position), assessorNames[3]);
}

/* Appends (rule id, fact ids sorted) for one action message
   '{"r<n>":[{"m":{"id":"<position>",...}},...]}', the rule's id being rules[n]; sets *sentinel
   instead for the sentinel's message. Within JSON strings every '"' is escaped, so the frame
   text occurs only where a frame starts, before the fact's position. `facts` and `rules` are
   tuples. */
static int assessorReadMessage(PyObject *found, const char *message, PyObject *facts, PyObject *rules,
                               int *sentinel) {
    const char *name = message + 2, *end = message[0] && message[1] ? strchr(name, '"') : NULL;
    if (!end) {
        PyErr_SetString(RulesError, "unexpected action message");
        return -1;
    }
    if ((size_t)(end - name) == strlen(ASSESSOR_SENTINEL) && !strncmp(name, ASSESSOR_SENTINEL, end - name)) {
        *sentinel = 1;
        return 0;
    }
    Py_ssize_t number = assessorRuleNumber(name, end);
    if (number < 0 || number >= PyTuple_GET_SIZE(rules)) {
        PyErr_SetString(RulesError, "an action message names no rule of the ruleset");
        return -1;
    }
    PyObject *rule = PyTuple_GET_ITEM(rules, number), *unique = NULL;
    const char *frame = strstr(end, ASSESSOR_FRAME);
    PyObject *id = frame ? assessorFrameFact(&frame, facts) : NULL;
    if (!frame) {
        PyErr_SetString(RulesError, "an action message names no fact of the batch");
    }
    if (!id) {
        return -1;
    }
    frame = strstr(frame, ASSESSOR_FRAME);
    if (!frame) {  /* most rules hold on one fact: nothing to sort */
        unique = PyTuple_Pack(1, id);
        Py_DECREF(id);
    } else {
        PyObject *ids = PyList_New(1);
        int failed = !ids;
        if (ids) {
            PyList_SET_ITEM(ids, 0, id);
        } else {
            Py_DECREF(id);
        }
        for (; frame && !failed; frame = strstr(frame, ASSESSOR_FRAME)) {
            id = assessorFrameFact(&frame, facts);
            failed = !id || PyList_Append(ids, id);
            Py_XDECREF(id);
        }
        if (!failed && !PyList_Sort(ids)) {  /* sorted, each id once (two facts may share one) */
            Py_ssize_t kept = 0;
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ids) && !failed; ++i) {
                int same =
                    kept ? PyObject_RichCompareBool(PyList_GET_ITEM(ids, kept - 1), PyList_GET_ITEM(ids, i), Py_EQ) : 0;
                if (same < 0) {
                    failed = 1;
                } else if (!same) {
                    id = PyList_GET_ITEM(ids, i);
                    Py_INCREF(id);
                    failed = PyList_SetItem(ids, kept++, id);
                }
            }
            PyObject *sorted = failed ? NULL : PyList_GetSlice(ids, 0, kept);
            unique = sorted ? PyList_AsTuple(sorted) : NULL;
            Py_XDECREF(sorted);
        }
        Py_XDECREF(ids);
    }
    PyObject *pair = unique ? PyTuple_Pack(2, rule, unique) : NULL;
    Py_XDECREF(unique);
    int failed = !pair || PyList_Append(found, pair);
    Py_XDECREF(pair);
    return failed ? -1 : 0;
}

/* C1/P4: a session in which no action started must not be deleted. Asserts the trigger alone,
   which starts the sentinel's action, runs the actions and deletes the session; a session that
   was deleted already is made anew by the trigger and deleted again. Errors are left: the
   caller reports the first. */
static void assessorAbandon(unsigned int handle, const char *sid) {
    size_t size = strlen(sid) + 40;
    char *trigger = malloc(size);  /* not Python's: the error already set stays as it is */
    if (!trigger) {
        return;
    }
    snprintf(trigger, size, "{\"kind\":\"$eval\",\"id\":\"t\",\"sid\":\"%s\"}", sid);
    unsigned int stateOffset, result = assertFact(handle, trigger, &stateOffset);
    char *state = NULL, *message = NULL;
    if ((result == RULES_OK || result == ERR_EVENT_NOT_HANDLED || result == ERR_EVENT_OBSERVED ||
         result == ERR_EVENT_DEFERRED) &&
        startActionForState(handle, stateOffset, &state, &message) == RULES_OK && message && *message) {
        while (completeAndStartAction(handle, stateOffset, &message) == RULES_OK && message && *message) {
        }
        deleteState(handle, (char *)sid);
    }
    free(trigger);
}

/* One ruleset's part of assessorRun: appends to `found`; `batch` is a buffer to reuse */
static int assessorRunShard(PyObject *found, AssessorText *batch, unsigned int handle, const char *sid,
                            AssessorFacts *facts, PyObject *specs, PyObject *rules, long long maxNumber,
                            Py_ssize_t maxString) {
    Py_ssize_t written;
    if (assessorWriteBatch(batch, sid, facts, specs, maxNumber, maxString, &written)) {
        return -1;  /* nothing asserted */
    }
    if (!written) {  /* C3: an empty batch is never asserted; without facts nothing can fire */
        return 0;
    }
    unsigned int stateOffset;
    unsigned int result = assertFacts(handle, batch->text, &stateOffset);
    int started = 0, sentinel = 0, failed = 0;
    /* 1, 2: a fact no rule matched, a repeated id (P2) */
    if (result != RULES_OK && result != ERR_EVENT_NOT_HANDLED && result != ERR_EVENT_OBSERVED &&
        result != ERR_EVENT_DEFERRED) {
        assessorRulesError("assert facts", result);
        failed = 1;
    } else {
        char *state = NULL, *message = NULL;
        result = startActionForState(handle, stateOffset, &state, &message);
        while (result == RULES_OK && message && *message) {
            started = 1;
            if (assessorReadMessage(found, message, facts->tuple, rules, &sentinel)) {
                failed = 1;
                break;
            }
            result = completeAndStartAction(handle, stateOffset, &message);
        }
        if (!failed && result != RULES_OK && result != ERR_NO_ACTION_AVAILABLE) {
            assessorRulesError(started ? "complete and start action" : "start action", result);
            failed = 1;
        }
        if (!failed && !sentinel) {
            PyErr_SetString(RulesError, "read only part of the facts (probe P6)");
            failed = 1;
        }
    }
    if (started) {
        result = deleteState(handle, (char *)sid);
        if (!failed && result != RULES_OK) {
            assessorRulesError("delete state", result);
            failed = 1;
        }
    } else {
        assessorAbandon(handle, sid);
    }
    return failed ? -1 : 0;
}

/* Sorts the (rule id, ids) pairs of `found` by rule id, stably: by insertion when the ids are
   str, as they are (a few pairs per call; PyList_Sort's setup costs more than their sorting),
   else by PyList_Sort */
static int assessorSortByRule(PyObject *found) {
    Py_ssize_t count = PyList_GET_SIZE(found);
    for (Py_ssize_t i = 0; i < count; ++i) {
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(PyList_GET_ITEM(found, i), 0))) {
            return PyList_Sort(found);
        }
    }
    PyObject **items = ((PyListObject *)found)->ob_item;
    for (Py_ssize_t i = 1; i < count; ++i) {
        PyObject *pair = items[i], *rule = PyTuple_GET_ITEM(pair, 0);
        Py_ssize_t j = i;
        while (j > 0 && PyUnicode_Compare(PyTuple_GET_ITEM(items[j - 1], 0), rule) > 0) {
            items[j] = items[j - 1];
            --j;
        }
        items[j] = pair;
    }
    return 0;
}

/* The batch buffer of the last call, kept for the next (at most 1 MiB): every case would
   otherwise allocate and free one per stage */
static AssessorText assessorSpare = {NULL, 0, 0};

/* A str argument as UTF-8 without NUL characters (as PyArg_ParseTuple's "s"); NULL with an error */
static const char *assessorUTF8(PyObject *arg, const char *what) {
    Py_ssize_t length;
    const char *text = PyUnicode_Check(arg) ? PyUnicode_AsUTF8AndSize(arg, &length) : NULL;
    if (!text) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError, "%s must be a str", what);
        }
    } else if (strlen(text) != (size_t)length) {
        PyErr_Format(PyExc_ValueError, "%s must not hold NUL characters", what);
        text = NULL;
    }
    return text;
}

/* (handle, specs, rules) of one ruleset, checked; 0 with TypeError if it is not that */
static int assessorShard(PyObject *shard, unsigned int *handle, PyObject **specs, PyObject **rules) {
    unsigned long number;
    if (!PyTuple_Check(shard) || PyTuple_GET_SIZE(shard) != 3 || !PyLong_Check(PyTuple_GET_ITEM(shard, 0)) ||
        !PyDict_Check(*specs = PyTuple_GET_ITEM(shard, 1)) || !PyTuple_Check(*rules = PyTuple_GET_ITEM(shard, 2))) {
        PyErr_SetString(PyExc_TypeError, "each shard must be (handle, specs dict, rules tuple)");
        return 0;
    }
    number = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(shard, 0));
    if (number == (unsigned long)-1 && PyErr_Occurred()) {
        return 0;
    }
    if (number > UINT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "handle out of range");
        return 0;
    }
    *handle = (unsigned int)number;
    return 1;
}

/* assessor_run's arguments are read without PyArg_ParseTuple, which costs as much as
   reading a fact: the driver calls it once per stage of every case. `shards` is a tuple of
   tuples, which no Python code can change; each shard's specs are held while they are used. */
static PyObject *assessorRun(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_Format(PyExc_TypeError, "assessor_run takes 6 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *shards = args[0], *stage = args[2];
    const char *sid = assessorUTF8(args[1], "sid");
    if (!sid) {
        return NULL;
    }
    if (!PyTuple_Check(shards)) {
        PyErr_SetString(PyExc_TypeError, "shards must be a tuple");
        return NULL;
    }
    long long maxNumber = PyLong_AsLongLong(args[4]);
    if (maxNumber == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t maxString = PyLong_AsSsize_t(args[5]);
    if ((maxString == -1 && PyErr_Occurred()) || !assessorCheckArguments(sid, maxNumber, maxString)) {
        return NULL;
    }
    unsigned int handle;
    PyObject *specs, *rules;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(shards); ++i) {
        if (!assessorShard(PyTuple_GET_ITEM(shards, i), &handle, &specs, &rules)) {
            return NULL;
        }
    }
    AssessorFacts facts;
    AssessorText batch = assessorSpare;  /* taken, so that a call from the facts' code gets none */
    assessorSpare = (AssessorText){NULL, 0, 0};
    PyObject *found = PyList_New(0);
    int failed = !found || assessorFactsInit(&facts, args[3], stage);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(shards) && !failed; ++i) {
        assessorShard(PyTuple_GET_ITEM(shards, i), &handle, &specs, &rules);
        Py_INCREF(specs);
        failed = assessorRunShard(found, &batch, handle, sid, &facts, specs, rules, maxNumber, maxString);
        Py_DECREF(specs);
    }
    /* sorted by rule id: the order of the answer, and a rule split over rulesets side by side */
    if (!failed) {
        failed = assessorSortByRule(found);
    }
    if (found) {
        assessorFactsFree(&facts);
    }
    if (!assessorSpare.text && batch.size <= 1 << 20) {
        assessorSpare = batch;
    } else {
        free(batch.text);
    }
    if (failed) {
        Py_CLEAR(found);
    }
    return found;
}
