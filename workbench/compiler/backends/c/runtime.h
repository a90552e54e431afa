/* The runtime every generated module includes: storage of arrays between calls, output
 * allocation that reuses buffers, calls back into Python for ops without C code, timers.
 * All of it runs with the GIL held (wb_call takes it); OpenMP workers never touch Python. */
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <Python.h>
#include <numpy/arrayobject.h>
#include <math.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* cffi's wrappers release the GIL around every call and each of our functions takes it
 * back at once: keep it instead (the round trip would cost more than a small graph). */
#undef Py_BEGIN_ALLOW_THREADS
#define Py_BEGIN_ALLOW_THREADS {
#undef Py_END_ALLOW_THREADS
#define Py_END_ALLOW_THREADS }

#define WB_INLINE static inline
#define WB_MAXDIM 32

typedef struct {
    PyObject **store;      /* one slot per variable: its array (a reference) or NULL */
    int n_store;
    PyObject *thunks;      /* tuple: per node, a Python callable for ops run by perform */
    PyObject *cells;       /* tuple: per implicit input (shared variable), its storage list */
    PyObject *outs;        /* list the outputs are written to */
    PyObject *error;       /* list [exception] set on failure */
    int node;              /* the node being computed (index in the order), for errors */
    int profile;           /* nonzero: time every node */
    double *node_seconds;  /* per node: seconds of the last profiled call (-1: not run) */
    char *computed;        /* lazy graphs: per node, computed in this call */
    void *blas[8];         /* BLAS entry points (see blas emitter) */
    PyObject *dump;        /* profiling: list receiving every slot's value after a call */
} wb_state;

WB_INLINE double wb_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Make *slot an aligned, C-contiguous, writeable array of this shape and type. The array
 * from the previous call is kept when nobody else holds it and it fits exactly. */
static int wb_prepare(PyObject **slot, int nd, const npy_intp *dims, int typenum) {
    PyArrayObject *old = (PyArrayObject *)*slot;
    if (old != NULL && Py_REFCNT(old) == 1 && PyArray_NDIM(old) == nd
            && PyArray_TYPE(old) == typenum && PyArray_IS_C_CONTIGUOUS(old)
            && PyArray_ISWRITEABLE(old) && PyArray_CHKFLAGS(old, NPY_ARRAY_OWNDATA)) {
        int same = 1;
        for (int d = 0; d < nd; d++) if (PyArray_DIMS(old)[d] != dims[d]) { same = 0; break; }
        if (same) return 0;
    }
    PyObject *arr = PyArray_SimpleNew(nd, (npy_intp *)dims, typenum);
    if (arr == NULL) return -1;
    Py_XDECREF(*slot);
    *slot = arr;
    return 0;
}

/* *slot becomes another reference to value (views, in-place results, fallbacks). */
WB_INLINE void wb_set(PyObject **slot, PyObject *value) {
    Py_INCREF(value);
    Py_XDECREF(*slot);
    *slot = value;
}

/* A view of base with these dims and strides (in bytes) starting at data. */
static int wb_view(PyObject **slot, PyArrayObject *base, int nd, const npy_intp *dims,
                   const npy_intp *strides, char *data) {
    PyArray_Descr *descr = PyArray_DESCR(base);
    Py_INCREF(descr);
    PyObject *v = PyArray_NewFromDescr(&PyArray_Type, descr, nd, (npy_intp *)dims,
                                       (npy_intp *)strides, data,
                                       PyArray_FLAGS(base) & NPY_ARRAY_WRITEABLE, NULL);
    if (v == NULL) return -1;
    Py_INCREF(base);
    if (PyArray_SetBaseObject((PyArrayObject *)v, (PyObject *)base) < 0) { Py_DECREF(v); return -1; }
    PyArray_UpdateFlags((PyArrayObject *)v, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_F_CONTIGUOUS
                        | NPY_ARRAY_ALIGNED);
    Py_XDECREF(*slot);
    *slot = v;
    return 0;
}

/* Run node k through its op's perform (a Python callable taking the input values and
 * returning a tuple of outputs). typenums[i] < 0: output i is not an array. */
static int wb_thunk(wb_state *st, int k, int nin, PyObject **ins, int nout, PyObject ***outs,
                    const int *typenums) {
    PyObject *args = PyTuple_New(nin);
    if (args == NULL) return -1;
    for (int i = 0; i < nin; i++) {
        PyObject *v = ins[i] ? ins[i] : Py_None;
        Py_INCREF(v);
        PyTuple_SET_ITEM(args, i, v);
    }
    PyObject *res = PyObject_Call(PyTuple_GET_ITEM(st->thunks, k), args, NULL);
    Py_DECREF(args);
    if (res == NULL) return -1;
    if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != nout) {
        Py_DECREF(res);
        PyErr_SetString(PyExc_RuntimeError, "perform returned the wrong number of outputs");
        return -1;
    }
    for (int i = 0; i < nout; i++) {
        PyObject *o = PyTuple_GET_ITEM(res, i);
        if (typenums[i] >= 0) {
            o = PyArray_FROM_OTF(o, typenums[i], 0);
            if (o == NULL) { Py_DECREF(res); return -1; }
        } else {
            Py_INCREF(o);
        }
        Py_XDECREF(*outs[i]);
        *outs[i] = o;
    }
    Py_DECREF(res);
    return 0;
}

/* Whether o can be used as input of this type without conversion (the fast path). */
WB_INLINE int wb_input_ok(PyObject *o, int typenum, int nd) {
    return PyArray_CheckExact(o) && PyArray_TYPE((PyArrayObject *)o) == typenum
        && PyArray_NDIM((PyArrayObject *)o) == nd
        && PyArray_ISNOTSWAPPED((PyArrayObject *)o) && PyArray_ISALIGNED((PyArrayObject *)o);
}

/* A Python float or int given for a 0-d float64 / int64 input: a fresh 0-d array. */
static PyObject *wb_scalar_input(PyObject *o, int typenum) {
    if (typenum == NPY_FLOAT64 && (PyFloat_CheckExact(o) || PyArray_IsScalar(o, Double))) {
        PyObject *a = PyArray_SimpleNew(0, NULL, NPY_FLOAT64);
        if (a) *(double *)PyArray_DATA((PyArrayObject *)a) = PyFloat_AsDouble(o);
        return a;
    }
    if (typenum == NPY_INT64 && PyLong_CheckExact(o)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow || (v == -1 && PyErr_Occurred())) { PyErr_Clear(); return NULL; }
        PyObject *a = PyArray_SimpleNew(0, NULL, NPY_INT64);
        if (a) *(npy_int64 *)PyArray_DATA((PyArrayObject *)a) = v;
        return a;
    }
    return NULL;
}

/* Keep the pending Python exception in st->error for the caller and clear it: a cffi
 * function must not return with an exception set. */
static void wb_stash_error(wb_state *st) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL) { value = Py_None; Py_INCREF(value); }
    if (tb != NULL) PyException_SetTraceback(value, tb);
    PyList_SetItem(st->error, 0, value);  /* steals value */
    Py_XDECREF(type);
    Py_XDECREF(tb);
}

WB_INLINE npy_intp wb_size(int nd, const npy_intp *dims) {
    npy_intp n = 1;
    for (int d = 0; d < nd; d++) n *= dims[d];
    return n;
}

/* NumPy's broadcasting of one input's shape into dims (1 stretches); -1 on mismatch. */
WB_INLINE int wb_broadcast_into(npy_intp *dims, int nd, PyArrayObject *a) {
    for (int d = 0; d < nd; d++) {
        npy_intp s = PyArray_DIMS(a)[d];
        if (s == dims[d] || s == 1) continue;
        if (dims[d] == 1) dims[d] = s; else return -1;
    }
    return 0;
}

static void wb_shape_text(char *buf, size_t n, PyArrayObject *a) {
    size_t used = snprintf(buf, n, "(");
    for (int d = 0; d < PyArray_NDIM(a) && used < n; d++)
        used += snprintf(buf + used, n - used, d ? ", %ld" : "%ld", (long)PyArray_DIMS(a)[d]);
    if (used < n) snprintf(buf + used, n - used, PyArray_NDIM(a) == 1 ? ",)" : ")");
}
