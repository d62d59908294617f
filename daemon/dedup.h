#ifndef FEEDWATCH_DEDUP_H
#define FEEDWATCH_DEDUP_H

#include <stdint.h>

/*
 * Near-duplicate stories: a 64-bit SimHash of a story's words, so that
 * one story carried by many feeds is seen once.
 */

#define DEDUP_MAX_DISTANCE 3 /* default Hamming distance of near-duplicates */

/*
 * The 64-bit SimHash of a story: 2-word shingles of the normalised
 * tokens of its title and text (plain text, either may be NULL), each
 * hashed to 64 bits and summed per bit. Near-identical stories differ
 * in few bits. Cannot fail; a story with no words gives 0.
 */
uint64_t dedup_simhash(const char *title, const char *text);
/* Return the Hamming distance of two fingerprints (0..64). */
int dedup_distance(uint64_t a, uint64_t b);
/* The fingerprint's i-th 16-bit block (i = 0..3), for the index. */
unsigned int dedup_block(uint64_t fp, int i);

#endif
