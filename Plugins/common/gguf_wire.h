/*
 * gguf_wire.h — how GGUF scalars sit in the file: little-endian, unaligned. Internal to the reader (gguf.c and
 * gguf_values.c); callers see decoded values through gguf.h.
 *
 * Loads assemble bytes with shifts, so they are correct on any host byte order and never make an unaligned access.
 */
#ifndef PLEXUS_GGUF_WIRE_H
#define PLEXUS_GGUF_WIRE_H

#include "gguf.h"

#include <stdint.h>
#include <string.h>

static inline uint16_t gguf_load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (uint16_t)p[1] << 8); }

static inline uint32_t gguf_load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t gguf_load_u64(const uint8_t *p) {
    return (uint64_t)gguf_load_u32(p) | (uint64_t)gguf_load_u32(p + 4) << 32;
}

/* Bytes of one scalar of `type`; 0 for STRING, ARRAY and unknown ids (variable size or invalid). */
static inline uint32_t gguf_scalar_bytes(uint32_t type) {
    switch (type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

/* Decodes the scalar of `type` at p (gguf_scalar_bytes(type) readable bytes) into the member gguf_value documents
 * for it. Floats go through their bit pattern: the host is assumed IEEE 754, as every ggml host is. */
static inline gguf_value gguf_decode_scalar(uint32_t type, const uint8_t *p) {
    gguf_value v;
    memset(&v, 0, sizeof v);
    switch (type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_BOOL: v.u64 = p[0]; break;
    case GGUF_TYPE_UINT16: v.u64 = gguf_load_u16(p); break;
    case GGUF_TYPE_UINT32: v.u64 = gguf_load_u32(p); break;
    case GGUF_TYPE_UINT64: v.u64 = gguf_load_u64(p); break;
    case GGUF_TYPE_INT8: v.i64 = (int8_t)p[0]; break;
    case GGUF_TYPE_INT16: v.i64 = (int16_t)gguf_load_u16(p); break;
    case GGUF_TYPE_INT32: v.i64 = (int32_t)gguf_load_u32(p); break;
    case GGUF_TYPE_INT64: v.i64 = (int64_t)gguf_load_u64(p); break;
    case GGUF_TYPE_FLOAT32: {
        uint32_t bits = gguf_load_u32(p);
        float f;
        memcpy(&f, &bits, sizeof f);
        v.f64 = f;
        break;
    }
    case GGUF_TYPE_FLOAT64: {
        uint64_t bits = gguf_load_u64(p);
        memcpy(&v.f64, &bits, sizeof v.f64);
        break;
    }
    default: break;
    }
    return v;
}

#endif
