#ifndef FEEDWATCH_DEDUP_H
#define FEEDWATCH_DEDUP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

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
/*
 * A 64-bit hash of a canonical URL, by which the story log indexes it
 * (the URL itself is compared too). Cannot fail.
 */
int64_t dedup_url_key(const char *url);
/* The fingerprint's i-th 16-bit block (i = 0..3), for the index. */
unsigned int dedup_block(uint64_t fp, int i);

/*
 * An index in memory of the fingerprints of the stories in the dedup
 * window, by their four 16-bit blocks: a story within 3 bits shares at
 * least one block exactly (pigeonhole), so a look-up reads the stories
 * sharing each block, laid out side by side in four tables (the newest
 * on four short chains until the tables are laid out again). About 34
 * bytes a story, and 1.25 MiB for the block tables.
 */
struct dedup_index;

/* Return an empty index (free with dedup_index_free). Cannot fail. */
struct dedup_index *dedup_index_new(void);
/* Free the index; accepts NULL. */
void dedup_index_free(struct dedup_index *);
/*
 * Add a story's fingerprint, the cluster it stands for and when it was
 * first seen (UTC seconds). Cannot fail.
 */
void dedup_index_add(
    struct dedup_index *, uint64_t simhash, int64_t cluster, time_t first_seen);
/*
 * Forget stories added before one first seen at or after before: the
 * window has passed them. Cannot fail.
 */
void dedup_index_expire(struct dedup_index *, time_t before);
/* Return how many stories the index holds, expired ones not yet gone. */
size_t dedup_index_count(const struct dedup_index *);
/*
 * Find the nearest story first seen at or after since within
 * max_distance of simhash (past 3, only those sharing a block); of
 * equally near ones, the oldest cluster. Set *cluster and *distance and return
 * 1, or return 0.
 */
int dedup_index_find(const struct dedup_index *, uint64_t simhash,
    int max_distance, time_t since, int64_t *cluster, int *distance);

/*
 * A filter of keys (dedup_url_key): it says when a key was surely not
 * added, and "maybe" for one that was not about 3 times in 100 when
 * full, far fewer below. A blocked Bloom filter, 1 byte a key of its
 * capacity.
 */
struct dedup_filter;

/* Return an empty filter for capacity keys (free with dedup_filter_free). */
struct dedup_filter *dedup_filter_new(size_t capacity);
/* Free the filter; accepts NULL. */
void dedup_filter_free(struct dedup_filter *);
/* Add a key. Return 0, or -1 when the filter is past its capacity. */
int dedup_filter_add(struct dedup_filter *, int64_t key);
/* Return 0 when key was surely not added, 1 when it may have been. */
int dedup_filter_has(const struct dedup_filter *, int64_t key);

#endif
