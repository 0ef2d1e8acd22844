/* Restricted pickle reader (see pickle.h). Opcodes as Python's Lib/pickletools.py documents
 * them; only the ones torch.save needs for a state dict are read.
 *
 * The machine: a value stack of node indices, a stack of marks (positions in the value stack,
 * at most IGQ__PICKLE_MAX_DEPTH), a memo of node indices. Values above the innermost mark are
 * the only ones an opcode may pop, as in Python's unpickler. Every node lives in one growing
 * array (containers hold item arrays of node indices), so the object graph may share nodes or
 * even be cyclic without anything here walking it: each container's depth is updated as items
 * are added and refused beyond the bound. */
#include "pickle.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"

typedef struct vm {
    const unsigned char *p;
    size_t               n, pos, at; /* at: byte of the current opcode */
    int                  op;
    const char          *who;
    igq__pickle         *pk;
    size_t               cap_nodes, cap_storages, cap_tensors;
    uint32_t            *stack;
    size_t               sp, cap_stack;
    size_t               marks[IGQ__PICKLE_MAX_DEPTH];
    size_t               n_marks;
    uint32_t            *memo;
    size_t               n_memo, cap_memo;
    size_t               items_total;
} vm;

/* Grows *arr (elem-byte items, *cap of them) to hold need; 0 when out of memory. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t nc = *cap ? *cap : 16, bytes;
    void  *p;
    if (need <= *cap) return 1;
    while (nc < need) nc *= 2;
    if (!igq__mul_size(nc, elem, &bytes)) return 0;
    p = igq__malloc(bytes);
    if (p == NULL) return 0;
    if (*cap) memcpy(p, *arr, *cap * elem);
    igq__free(*arr);
    *arr = p;
    *cap = nc;
    return 1;
}

static igq_status oom(const vm *v)
{
    return igq__set_error(IGQ_ERR_NO_MEMORY, "%s: out of memory reading the pickle", v->who);
}

static igq_status bad(const vm *v, const char *what)
{
    return igq__set_error(IGQ_ERR_FORMAT, "%s: pickle opcode 0x%02x at byte %zu: %s", v->who,
                          (unsigned)v->op, v->at, what);
}

static igq_status need(const vm *v, size_t k)
{
    if (v->n - v->pos < k)
        return igq__set_error(IGQ_ERR_FORMAT,
                              "%s: pickle truncated: opcode 0x%02x at byte %zu needs %zu more "
                              "bytes, %zu remain",
                              v->who, (unsigned)v->op, v->at, k, v->n - v->pos);
    return IGQ_OK;
}

static uint32_t rd_le(const unsigned char *p, int k)
{
    uint32_t x = 0;
    int      i;
    for (i = 0; i < k; i++) x |= (uint32_t)p[i] << (8 * i);
    return x;
}

static igq_status new_node(vm *v, int kind, uint32_t *idx)
{
    igq__pickle  *pk = v->pk;
    igq__pk_node *nd;
    if (pk->n_nodes >= IGQ__PICKLE_MAX_NODES)
        return igq__set_error(IGQ_ERR_FORMAT, "%s: pickle builds more than %zu objects", v->who,
                              (size_t)IGQ__PICKLE_MAX_NODES);
    if (!grow((void **)&pk->nodes, &v->cap_nodes, pk->n_nodes + 1, sizeof *pk->nodes))
        return oom(v);
    nd = &pk->nodes[pk->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->kind  = (uint8_t)kind;
    nd->depth = (kind == IGQ__PK_TUPLE || kind == IGQ__PK_LIST || kind == IGQ__PK_DICT) ? 1 : 0;
    *idx      = (uint32_t)pk->n_nodes++;
    return IGQ_OK;
}

static igq_status push(vm *v, uint32_t idx)
{
    if (v->sp >= IGQ__PICKLE_MAX_STACK)
        return igq__set_error(IGQ_ERR_FORMAT, "%s: pickle stack exceeds %zu values", v->who,
                              (size_t)IGQ__PICKLE_MAX_STACK);
    if (!grow((void **)&v->stack, &v->cap_stack, v->sp + 1, sizeof *v->stack)) return oom(v);
    v->stack[v->sp++] = idx;
    return IGQ_OK;
}

static size_t base(const vm *v) { return v->n_marks ? v->marks[v->n_marks - 1] : 0; }

static igq_status pop(vm *v, uint32_t *idx)
{
    if (v->sp <= base(v)) return bad(v, "stack underflow");
    *idx = v->stack[--v->sp];
    return IGQ_OK;
}

static igq_status new_scalar(vm *v, int kind, int64_t i)
{
    uint32_t idx;
    IGQ_TRY(new_node(v, kind, &idx));
    v->pk->nodes[idx].u.i = i;
    return push(v, idx);
}

/* Adds item to container c, keeping c's depth. */
static igq_status add_item(vm *v, uint32_t c, uint32_t item)
{
    igq__pk_node *nd = &v->pk->nodes[c];
    const int     d  = v->pk->nodes[item].depth + 1;
    if (d > IGQ__PICKLE_MAX_DEPTH)
        return igq__set_error(IGQ_ERR_FORMAT,
                              "%s: pickle objects nest deeper than %d levels (recursion bomb) at "
                              "byte %zu",
                              v->who, IGQ__PICKLE_MAX_DEPTH, v->at);
    if (v->items_total >= IGQ__PICKLE_MAX_ITEMS)
        return igq__set_error(IGQ_ERR_FORMAT, "%s: pickle containers hold more than %zu items",
                              v->who, (size_t)IGQ__PICKLE_MAX_ITEMS);
    {
        size_t cap = nd->cap;
        if (!grow((void **)&nd->items, &cap, (size_t)nd->n + 1, sizeof *nd->items)) return oom(v);
        nd->cap = (uint32_t)cap;
    }
    nd->items[nd->n++] = item;
    if (d > nd->depth) nd->depth = (uint16_t)d;
    v->items_total++;
    return IGQ_OK;
}

/* A tuple or list of the values from stack position from to the top, which are popped. */
static igq_status collect(vm *v, int kind, size_t from)
{
    uint32_t idx;
    size_t   i;
    IGQ_TRY(new_node(v, kind, &idx));
    for (i = from; i < v->sp; i++) IGQ_TRY(add_item(v, idx, v->stack[i]));
    v->sp = from;
    return push(v, idx);
}

static igq_status pop_mark(vm *v, size_t *from)
{
    if (v->n_marks == 0) return bad(v, "no MARK to pop to");
    *from = v->marks[--v->n_marks];
    return IGQ_OK;
}

static const char *kind_name(int kind)
{
    static const char *const names[] = {"None", "bool",    "int",    "float",
                                        "str",  "tuple",   "list",   "dict",
                                        "global", "storage", "tensor"};
    return kind >= 0 && kind <= IGQ__PK_TENSOR ? names[kind] : "?";
}

/* ---- globals ------------------------------------------------------------------------------ */

static const struct {
    const char  *name;
    igq_st_dtype dtype;
} k_storages[] = {
    {"FloatStorage", IGQ_ST_F32}, {"HalfStorage", IGQ_ST_F16}, {"BFloat16Storage", IGQ_ST_BF16},
    {"DoubleStorage", IGQ_ST_F64}, {"LongStorage", IGQ_ST_I64}, {"IntStorage", IGQ_ST_I32},
    {"ShortStorage", IGQ_ST_I16}, {"CharStorage", IGQ_ST_I8},   {"ByteStorage", IGQ_ST_U8},
    {"BoolStorage", IGQ_ST_BOOL},
};

static int is(const char *s, size_t n, const char *lit) { return strlen(lit) == n && memcmp(s, lit, n) == 0; }

/* Copies up to cap - 1 bytes of s for a message, non-printable bytes as '?'. */
static const char *shown(const char *s, size_t n, char *buf, size_t cap)
{
    size_t i, k = n < cap - 1 ? n : cap - 1;
    for (i = 0; i < k; i++) buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[k] = '\0';
    return buf;
}

static igq_status global(vm *v, const char *mod, size_t ml, const char *name, size_t nl)
{
    char     bm[128], bn[128];
    int64_t  code = -1;
    uint32_t idx;
    size_t   i;
    if (is(mod, ml, "torch._utils") && is(name, nl, "_rebuild_tensor_v2"))
        code = IGQ__PKG_REBUILD_TENSOR_V2;
    else if (is(mod, ml, "torch._utils") && is(name, nl, "_rebuild_parameter"))
        code = IGQ__PKG_REBUILD_PARAMETER;
    else if (is(mod, ml, "collections") && is(name, nl, "OrderedDict"))
        code = IGQ__PKG_ORDERED_DICT;
    else if (is(mod, ml, "torch"))
        for (i = 0; i < sizeof k_storages / sizeof k_storages[0]; i++)
            if (is(name, nl, k_storages[i].name)) code = IGQ__PKG_STORAGE + k_storages[i].dtype;
    if (code < 0)
        return igq__set_error(IGQ_ERR_UNSUPPORTED,
                              "%s: pickle global '%s.%s' at byte %zu is not allowed (only "
                              "tensors, storages and dicts of a state dict are read; nothing is "
                              "executed): save the state dict alone, "
                              "torch.save(model.state_dict(), path)",
                              v->who, shown(mod, ml, bm, sizeof bm), shown(name, nl, bn, sizeof bn),
                              v->at);
    IGQ_TRY(new_node(v, IGQ__PK_GLOBAL, &idx));
    v->pk->nodes[idx].u.i = code;
    return push(v, idx);
}

/* GLOBAL: "module\nname\n" as text lines. */
static igq_status global_text(vm *v)
{
    const char *s = (const char *)v->p + v->pos, *nl1, *nl2;
    size_t      left = v->n - v->pos;
    nl1              = (const char *)memchr(s, '\n', left);
    if (nl1 == NULL) return need(v, left + 1);
    nl2 = (const char *)memchr(nl1 + 1, '\n', left - (size_t)(nl1 + 1 - s));
    if (nl2 == NULL) return need(v, left + 1);
    v->pos += (size_t)(nl2 + 1 - s);
    return global(v, s, (size_t)(nl1 - s), nl1 + 1, (size_t)(nl2 - nl1 - 1));
}

static igq_status stack_global(vm *v)
{
    uint32_t            m = 0, nm = 0;
    const igq__pk_node *a, *b;
    IGQ_TRY(pop(v, &nm));
    IGQ_TRY(pop(v, &m));
    a = &v->pk->nodes[m];
    b = &v->pk->nodes[nm];
    if (a->kind != IGQ__PK_STR || b->kind != IGQ__PK_STR)
        return bad(v, "STACK_GLOBAL needs two strings");
    return global(v, a->u.s.p, a->u.s.len, b->u.s.p, b->u.s.len);
}

/* ---- REDUCE on an allowed callable -------------------------------------------------------- */

static int is_int_tuple(const igq__pickle *pk, uint32_t t)
{
    const igq__pk_node *nd = &pk->nodes[t];
    uint32_t            i;
    if (nd->kind != IGQ__PK_TUPLE) return 0;
    for (i = 0; i < nd->n; i++)
        if (pk->nodes[nd->items[i]].kind != IGQ__PK_INT) return 0;
    return 1;
}

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks
 * [, metadata]) */
static igq_status rebuild_tensor(vm *v, uint32_t args)
{
    igq__pickle        *pk = v->pk;
    const igq__pk_node *a  = &pk->nodes[args];
    const igq__pk_node *sz, *st;
    igq__pk_tensor     *t;
    uint32_t            idx, i;
    if (a->n < 6 || a->n > 7 || pk->nodes[a->items[0]].kind != IGQ__PK_STORAGE ||
        pk->nodes[a->items[1]].kind != IGQ__PK_INT || !is_int_tuple(pk, a->items[2]) ||
        !is_int_tuple(pk, a->items[3]) ||
        pk->nodes[a->items[2]].n != pk->nodes[a->items[3]].n ||
        pk->nodes[a->items[4]].kind != IGQ__PK_BOOL ||
        pk->nodes[a->items[5]].kind != IGQ__PK_DICT)
        return bad(v, "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, "
                      "requires_grad, hooks)");
    if (!grow((void **)&pk->tensors, &v->cap_tensors, pk->n_tensors + 1, sizeof *pk->tensors))
        return oom(v);
    t = &pk->tensors[pk->n_tensors];
    memset(t, 0, sizeof *t);
    sz         = &pk->nodes[a->items[2]];
    st         = &pk->nodes[a->items[3]];
    t->storage = a->items[0];
    t->offset  = pk->nodes[a->items[1]].u.i;
    t->ndim    = (int32_t)sz->n;
    for (i = 0; i < sz->n && i < IGQ_MAX_DIMS; i++) {
        t->size[i]   = pk->nodes[sz->items[i]].u.i;
        t->stride[i] = pk->nodes[st->items[i]].u.i;
    }
    IGQ_TRY(new_node(v, IGQ__PK_TENSOR, &idx));
    pk->nodes[idx].u.i = (int64_t)pk->n_tensors++;
    return push(v, idx);
}

static igq_status reduce(vm *v)
{
    igq__pickle        *pk = v->pk;
    uint32_t            fn = 0, args = 0, idx;
    const igq__pk_node *f, *a;
    int64_t             code;
    IGQ_TRY(pop(v, &args));
    IGQ_TRY(pop(v, &fn));
    f = &pk->nodes[fn];
    a = &pk->nodes[args];
    if (f->kind != IGQ__PK_GLOBAL) {
        char msg[64];
        snprintf(msg, sizeof msg, "REDUCE calls a %s", kind_name(f->kind));
        return igq__set_error(IGQ_ERR_UNSUPPORTED, "%s: pickle opcode at byte %zu: %s", v->who,
                              v->at, msg);
    }
    if (a->kind != IGQ__PK_TUPLE) return bad(v, "REDUCE arguments are not a tuple");
    code = f->u.i;
    if (code == IGQ__PKG_REBUILD_TENSOR_V2) return rebuild_tensor(v, args);
    if (code == IGQ__PKG_REBUILD_PARAMETER) {
        if (a->n != 3 || pk->nodes[a->items[0]].kind != IGQ__PK_TENSOR)
            return bad(v, "_rebuild_parameter arguments are not (tensor, requires_grad, hooks)");
        return push(v, a->items[0]);
    }
    if (code == IGQ__PKG_ORDERED_DICT) {
        if (a->n != 0) return bad(v, "OrderedDict is called with arguments");
        IGQ_TRY(new_node(v, IGQ__PK_DICT, &idx));
        return push(v, idx);
    }
    {
        const char *cls = "?";
        size_t      i;
        for (i = 0; i < sizeof k_storages / sizeof k_storages[0]; i++)
            if ((int64_t)k_storages[i].dtype == code - IGQ__PKG_STORAGE) cls = k_storages[i].name;
        return igq__set_error(IGQ_ERR_UNSUPPORTED,
                              "%s: pickle opcode at byte %zu: REDUCE calls storage class "
                              "torch.%s (storages are only read as persistent ids)",
                              v->who, v->at, cls);
    }
}

/* BINPERSID: ('storage', storage_type, key, location, numel). */
static igq_status persid(vm *v)
{
    igq__pickle        *pk = v->pk;
    uint32_t            pid = 0, idx;
    const igq__pk_node *t;
    igq__pk_storage    *s;
    IGQ_TRY(pop(v, &pid));
    t = &pk->nodes[pid];
    if (t->kind != IGQ__PK_TUPLE || t->n != 5 || pk->nodes[t->items[0]].kind != IGQ__PK_STR ||
        !is(pk->nodes[t->items[0]].u.s.p, pk->nodes[t->items[0]].u.s.len, "storage") ||
        pk->nodes[t->items[1]].kind != IGQ__PK_GLOBAL ||
        pk->nodes[t->items[1]].u.i < IGQ__PKG_STORAGE ||
        pk->nodes[t->items[2]].kind != IGQ__PK_STR ||
        pk->nodes[t->items[3]].kind != IGQ__PK_STR || pk->nodes[t->items[4]].kind != IGQ__PK_INT ||
        pk->nodes[t->items[4]].u.i < 0)
        return bad(v, "persistent id is not ('storage', storage type, key, location, numel)");
    if (!grow((void **)&pk->storages, &v->cap_storages, pk->n_storages + 1, sizeof *pk->storages))
        return oom(v);
    s          = &pk->storages[pk->n_storages];
    s->dtype   = (igq_st_dtype)(pk->nodes[t->items[1]].u.i - IGQ__PKG_STORAGE);
    s->key     = pk->nodes[t->items[2]].u.s.p;
    s->key_len = pk->nodes[t->items[2]].u.s.len;
    s->numel   = pk->nodes[t->items[4]].u.i;
    IGQ_TRY(new_node(v, IGQ__PK_STORAGE, &idx));
    pk->nodes[idx].u.i = (int64_t)pk->n_storages++;
    return push(v, idx);
}

/* ---- the machine -------------------------------------------------------------------------- */

static igq_status string(vm *v, int lenbytes)
{
    size_t   len;
    uint32_t idx;
    IGQ_TRY(need(v, (size_t)lenbytes));
    len = rd_le(v->p + v->pos, lenbytes);
    v->pos += (size_t)lenbytes;
    IGQ_TRY(need(v, len));
    IGQ_TRY(new_node(v, IGQ__PK_STR, &idx));
    v->pk->nodes[idx].u.s.p   = (const char *)v->p + v->pos;
    v->pk->nodes[idx].u.s.len = len;
    v->pos += len;
    return push(v, idx);
}

static igq_status memo_put(vm *v, size_t i)
{
    if (v->sp <= base(v)) return bad(v, "memo store from an empty stack");
    if (i > v->n_memo) {
        char msg[96];
        snprintf(msg, sizeof msg, "memo index %zu skips ahead of the %zu entries stored", i,
                 v->n_memo);
        return bad(v, msg);
    }
    if (i == v->n_memo) {
        if (!grow((void **)&v->memo, &v->cap_memo, v->n_memo + 1, sizeof *v->memo)) return oom(v);
        v->n_memo++;
    }
    v->memo[i] = v->stack[v->sp - 1];
    return IGQ_OK;
}

static igq_status memo_get(vm *v, size_t i)
{
    if (i >= v->n_memo) {
        char msg[96];
        snprintf(msg, sizeof msg, "memo index %zu was never stored", i);
        return bad(v, msg);
    }
    return push(v, v->memo[i]);
}

static igq_status set_items(vm *v, size_t from)
{
    uint32_t d, i;
    if ((v->sp - from) % 2 != 0) return bad(v, "SETITEMS with an odd number of values");
    if (from == 0 || from <= base(v)) return bad(v, "SETITEMS without a dict");
    d = v->stack[from - 1];
    if (v->pk->nodes[d].kind != IGQ__PK_DICT) return bad(v, "SETITEM(S) on something not a dict");
    for (i = (uint32_t)from; i < v->sp; i++) IGQ_TRY(add_item(v, d, v->stack[i]));
    v->sp = from;
    return IGQ_OK;
}

static igq_status append_items(vm *v, size_t from)
{
    uint32_t l, i;
    if (from == 0 || from <= base(v)) return bad(v, "APPEND(S) without a list");
    l = v->stack[from - 1];
    if (v->pk->nodes[l].kind != IGQ__PK_LIST) return bad(v, "APPEND(S) on something not a list");
    for (i = (uint32_t)from; i < v->sp; i++) IGQ_TRY(add_item(v, l, v->stack[i]));
    v->sp = from;
    return IGQ_OK;
}

static igq_status step(vm *v, int *stop)
{
    uint32_t a = 0, b = 0, idx;
    size_t   from = 0;
    v->at = v->pos;
    v->op = v->p[v->pos++];
    switch (v->op) {
    case 0x80: /* PROTO */
        IGQ_TRY(need(v, 1));
        if (v->p[v->pos] < 2 || v->p[v->pos] > 5)
            return igq__set_error(IGQ_ERR_UNSUPPORTED, "%s: pickle protocol %u (2 to 5 are read)",
                                  v->who, (unsigned)v->p[v->pos]);
        v->pos++;
        return IGQ_OK;
    case 0x95: /* FRAME: a length hint, checked and ignored */
        IGQ_TRY(need(v, 8));
        if (rd_le(v->p + v->pos + 4, 4) != 0 || rd_le(v->p + v->pos, 4) > v->n - v->pos - 8)
            return bad(v, "frame runs past the end of the stream");
        v->pos += 8;
        return IGQ_OK;
    case '}': IGQ_TRY(new_node(v, IGQ__PK_DICT, &idx)); return push(v, idx);
    case ']': IGQ_TRY(new_node(v, IGQ__PK_LIST, &idx)); return push(v, idx);
    case ')': IGQ_TRY(new_node(v, IGQ__PK_TUPLE, &idx)); return push(v, idx);
    case '(': /* MARK */
        if (v->n_marks >= IGQ__PICKLE_MAX_DEPTH)
            return igq__set_error(IGQ_ERR_FORMAT,
                                  "%s: pickle marks nest deeper than %d levels (recursion bomb) "
                                  "at byte %zu",
                                  v->who, IGQ__PICKLE_MAX_DEPTH, v->at);
        v->marks[v->n_marks++] = v->sp;
        return IGQ_OK;
    case 0x85: /* TUPLE1 */
    case 0x86: /* TUPLE2 */
    case 0x87: /* TUPLE3 */
        if (v->sp - base(v) < (size_t)(v->op - 0x84)) return bad(v, "stack underflow");
        return collect(v, IGQ__PK_TUPLE, v->sp - (size_t)(v->op - 0x84));
    case 't': IGQ_TRY(pop_mark(v, &from)); return collect(v, IGQ__PK_TUPLE, from);
    case 'l': IGQ_TRY(pop_mark(v, &from)); return collect(v, IGQ__PK_LIST, from);
    case 'd': {
        size_t i;
        IGQ_TRY(pop_mark(v, &from));
        if ((v->sp - from) % 2 != 0) return bad(v, "DICT with an odd number of values");
        IGQ_TRY(new_node(v, IGQ__PK_DICT, &idx));
        for (i = from; i < v->sp; i++) IGQ_TRY(add_item(v, idx, v->stack[i]));
        v->sp = from;
        return push(v, idx);
    }
    case 's': /* SETITEM */
        if (v->sp - base(v) < 3) return bad(v, "SETITEM without a dict, key and value");
        return set_items(v, v->sp - 2);
    case 'u': IGQ_TRY(pop_mark(v, &from)); return set_items(v, from);
    case 'a': /* APPEND */
        if (v->sp - base(v) < 2) return bad(v, "APPEND without a list and value");
        return append_items(v, v->sp - 1);
    case 'e': IGQ_TRY(pop_mark(v, &from)); return append_items(v, from);
    case 'J': /* BININT: signed 32-bit */
        IGQ_TRY(need(v, 4));
        a = rd_le(v->p + v->pos, 4);
        v->pos += 4;
        return new_scalar(v, IGQ__PK_INT, a >= 0x80000000u ? (int64_t)a - 0x100000000 : (int64_t)a);
    case 'K': IGQ_TRY(need(v, 1)); return new_scalar(v, IGQ__PK_INT, v->p[v->pos++]);
    case 'M':
        IGQ_TRY(need(v, 2));
        v->pos += 2;
        return new_scalar(v, IGQ__PK_INT, rd_le(v->p + v->pos - 2, 2));
    case 0x8a: { /* LONG1: n bytes, little-endian two's complement */
        uint64_t x = 0;
        int      k, i;
        IGQ_TRY(need(v, 1));
        k = v->p[v->pos++];
        if (k > 8)
            return igq__set_error(IGQ_ERR_UNSUPPORTED,
                                  "%s: pickle integer of %d bytes at byte %zu (64 bits at most)",
                                  v->who, k, v->at);
        IGQ_TRY(need(v, (size_t)k));
        for (i = 0; i < k; i++) x |= (uint64_t)v->p[v->pos + (size_t)i] << (8 * i);
        if (k > 0 && k < 8 && (v->p[v->pos + (size_t)k - 1] & 0x80)) x |= ~(uint64_t)0 << (8 * k);
        v->pos += (size_t)k;
        {
            int64_t s;
            memcpy(&s, &x, sizeof s);
            return new_scalar(v, IGQ__PK_INT, s);
        }
    }
    case 'G': { /* BINFLOAT: big-endian IEEE double */
        uint64_t x = 0;
        int      i;
        double   f;
        IGQ_TRY(need(v, 8));
        for (i = 0; i < 8; i++) x = x << 8 | v->p[v->pos + (size_t)i];
        v->pos += 8;
        memcpy(&f, &x, sizeof f);
        IGQ_TRY(new_node(v, IGQ__PK_FLOAT, &idx));
        v->pk->nodes[idx].u.f = f;
        return push(v, idx);
    }
    case 0x88: return new_scalar(v, IGQ__PK_BOOL, 1);
    case 0x89: return new_scalar(v, IGQ__PK_BOOL, 0);
    case 'N': return new_scalar(v, IGQ__PK_NONE, 0);
    case 'X': return string(v, 4);
    case 0x8c: return string(v, 1);
    case 'q': IGQ_TRY(need(v, 1)); return memo_put(v, v->p[v->pos++]);
    case 'r':
        IGQ_TRY(need(v, 4));
        v->pos += 4;
        return memo_put(v, rd_le(v->p + v->pos - 4, 4));
    case 0x94: return memo_put(v, v->n_memo);
    case 'h': IGQ_TRY(need(v, 1)); return memo_get(v, v->p[v->pos++]);
    case 'j':
        IGQ_TRY(need(v, 4));
        v->pos += 4;
        return memo_get(v, rd_le(v->p + v->pos - 4, 4));
    case 'c': return global_text(v);
    case 0x93: return stack_global(v);
    case 'R': return reduce(v);
    case 'Q': return persid(v);
    case 'b': /* BUILD: state set on an OrderedDict (its attributes, e.g. _metadata) is dropped */
        IGQ_TRY(pop(v, &b));
        if (v->sp <= base(v)) return bad(v, "BUILD without an object");
        a = v->stack[v->sp - 1];
        if (v->pk->nodes[a].kind != IGQ__PK_DICT)
            return igq__set_error(IGQ_ERR_UNSUPPORTED,
                                  "%s: pickle opcode at byte %zu: BUILD on a %s (only a dict's "
                                  "attributes are accepted, and ignored)",
                                  v->who, v->at, kind_name(v->pk->nodes[a].kind));
        return IGQ_OK;
    case 0x81: /* NEWOBJ: only OrderedDict() */
        IGQ_TRY(pop(v, &b));
        IGQ_TRY(pop(v, &a));
        if (v->pk->nodes[a].kind != IGQ__PK_GLOBAL || v->pk->nodes[a].u.i != IGQ__PKG_ORDERED_DICT ||
            v->pk->nodes[b].kind != IGQ__PK_TUPLE || v->pk->nodes[b].n != 0)
            return igq__set_error(IGQ_ERR_UNSUPPORTED,
                                  "%s: pickle opcode at byte %zu: NEWOBJ of something other "
                                  "than OrderedDict()",
                                  v->who, v->at);
        IGQ_TRY(new_node(v, IGQ__PK_DICT, &idx));
        return push(v, idx);
    case '.': /* STOP */
        if (v->sp != 1 || v->n_marks != 0) {
            char msg[96];
            snprintf(msg, sizeof msg, "STOP with %zu values and %zu marks on the stack (not 1, 0)",
                     v->sp, v->n_marks);
            return bad(v, msg);
        }
        v->pk->root = v->stack[0];
        *stop       = 1;
        return IGQ_OK;
    default:
        return igq__set_error(IGQ_ERR_UNSUPPORTED,
                              "%s: pickle opcode 0x%02x at byte %zu is not read by the restricted "
                              "reader (unknown or not needed for a state dict)",
                              v->who, (unsigned)v->op, v->at);
    }
}

void igq__pickle_free(igq__pickle *pk)
{
    size_t i;
    if (pk == NULL) return;
    for (i = 0; i < pk->n_nodes; i++) igq__free(pk->nodes[i].items);
    igq__free(pk->nodes);
    igq__free(pk->storages);
    igq__free(pk->tensors);
    igq__free(pk);
}

igq_status igq__pickle_load(const unsigned char *p, size_t n, const char *who, igq__pickle **out)
{
    vm         v;
    int        stop = 0;
    igq_status s    = IGQ_OK;
    *out            = NULL;
    IGQ_CHECK(n <= IGQ__PICKLE_MAX_BYTES, IGQ_ERR_UNSUPPORTED,
              "%s: pickle of %zu bytes exceeds the limit of %zu", who, n,
              (size_t)IGQ__PICKLE_MAX_BYTES);
    memset(&v, 0, sizeof v);
    v.p   = p;
    v.n   = n;
    v.who = who;
    v.pk  = (igq__pickle *)igq__calloc(1, sizeof *v.pk);
    IGQ_CHECK(v.pk != NULL, IGQ_ERR_NO_MEMORY, "%s: out of memory", who);
    while (s == IGQ_OK && !stop) {
        if (v.pos >= v.n) {
            s = igq__set_error(IGQ_ERR_FORMAT, "%s: pickle truncated: no STOP opcode in %zu bytes",
                               who, n);
            break;
        }
        s = step(&v, &stop);
    }
    igq__free(v.stack);
    igq__free(v.memo);
    if (s != IGQ_OK) {
        igq__pickle_free(v.pk);
        return s;
    }
    *out = v.pk;
    return IGQ_OK;
}

int64_t igq__pickle_dict_get(const igq__pickle *pk, uint32_t d, const char *key)
{
    const igq__pk_node *nd = &pk->nodes[d];
    int64_t             r  = -1;
    uint32_t            i;
    if (nd->kind != IGQ__PK_DICT) return -1;
    for (i = 0; i + 1 < nd->n; i += 2) {
        const igq__pk_node *k = &pk->nodes[nd->items[i]];
        if (k->kind == IGQ__PK_STR && is(k->u.s.p, k->u.s.len, key)) r = nd->items[i + 1];
    }
    return r;
}
