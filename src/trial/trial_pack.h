/* trial_pack: a trial_result as a flat byte buffer and back, for runners
 * that move results between processes (the MPI runner, run_mpi.c).
 *
 * The encoding is fixed-width little-endian whatever the host: every size
 * as a u64, doubles and floats by their IEEE-754 bits (u64 / u32), so the
 * bits of every number survive the trip (NaN payloads included) and an
 * unpacked result hashes to the same trial_result_hash. Layout: magic
 * "RXTR", u32 format version, then the fields in trial_result's order;
 * an optional array is a u64 presence flag followed by its elements.
 */
#ifndef RUNEXP_TRIAL_PACK_H
#define RUNEXP_TRIAL_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "trial.h"

/* Packs r into a new buffer (*buf, *len bytes); the caller frees *buf.
 * 0, or -1 when out of memory or a size would overflow (*buf NULL). */
int trial_result_pack(const trial_result *r, uint8_t **buf, size_t *len);

/* Unpacks buf[0..len) into *out (zeroed first), allocating its arrays; the
 * caller frees it with trial_result_free. 0, or -1 when the buffer is not
 * a packed result of this format (short, wrong magic or version, sizes
 * beyond the buffer, trailing bytes) or memory runs out; *out is then
 * zeroed. */
int trial_result_unpack(const uint8_t *buf, size_t len, trial_result *out);

#endif
