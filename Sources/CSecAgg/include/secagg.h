/*
 * secagg.h: the C ABI of swift-secure-aggregation.
 *
 * Secure aggregation (Bonawitz et al., CCS 2017; SecAgg+, Bell et al., CCS 2020) as bytes-in / bytes-out state
 * machines: a server and n clients that exchange the messages of SPEC.md §11–§12. The library does no I/O and
 * keeps no clock; the caller moves the bytes and owns the deadlines (README.md, "Embedding in your transport").
 * The library is `libSecAggC` (the `SecAggC` dynamic-library product of the Swift package); it needs libsodium at
 * run time.
 *
 * CONVENTIONS
 *
 * Handles. Configurations, clients, servers, server outboxes and quantization plans are opaque handles created
 * by a `*_new` / `*_decode` function and released by their `*_free` function. A handle is an identifier, not an
 * address: a freed, never-created or other-type handle is refused with SECAGG_INVALID_ARGUMENT, never
 * dereferenced, and freeing it twice does nothing. Freeing a client or server releases every key, seed, share
 * and input it still holds; the library's secret storage is overwritten with zeros when released.
 *
 * Status. Every function that can fail returns a secagg_status: SECAGG_OK (0) or an error category. The
 * calling thread's last error (secagg_last_error_message, secagg_last_error_kind) then describes the failure
 * in one line; it never contains a key, seed, share or input. A failed call changes no output parameter, except
 * that buffers and handles it would have returned are set to empty / NULL.
 *
 * Rejected messages. A message refused by secagg_client_handle or secagg_server_receive
 * (SECAGG_WIRE_FORMAT_ERROR, or SECAGG_PROTOCOL_ERROR for a message of another session or round, a duplicate,
 * a sender that is not a participant) leaves the party exactly as it was: keep feeding it. A protocol
 * violation by the server (a forged survivor set, a bad signature, a request for both shares of one peer)
 * aborts the client instead: its state becomes SECAGG_CLIENT_ABORTED.
 *
 * Buffers. Byte strings the library returns are secagg_buffer values that the caller owns and releases with
 * secagg_buffer_free (which overwrites them with zeros first). Element vectors are written into memory the
 * caller provides. Input pointers may be NULL only when their length is 0, and are read only during the call.
 *
 * Errors never trap. Every pointer, length, index and handle argument is checked, every byte string is decoded
 * strictly, and every error of the engine is returned as a status; nothing a peer sends or a caller passes
 * makes the library abort the process. (Memory the caller describes wrongly, e.g. a length longer than the
 * buffer, cannot be checked.)
 *
 * THREAD SAFETY
 *
 * Every function may be called from any thread. Calls on one client, server or outbox handle are serialised by
 * the library (each handle has a lock held for the duration of a call); calls on different handles run in
 * parallel. Configuration and plan handles are immutable and may be used by any number of threads at once.
 * The last error is per thread. A server's unmasking step (the last secagg_server_advance) uses up to
 * secagg_server_set_unmasking_threads worker threads of its own (default: every core).
 */
#ifndef SECAGG_H
#define SECAGG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------------------------
 * Versions
 */

/** The version of this header's ABI; secagg_abi_version() returns the one the library was built with. */
#define SECAGG_ABI_VERSION 1

/** The library version, e.g. "0.1.0" (a static string). */
const char *secagg_version(void);

/** The protocol version (the version byte of SPEC.md §11.1 and §12.1), which is also the SPEC version: 3. */
uint32_t secagg_protocol_version(void);

/** SECAGG_ABI_VERSION as the library was built. */
uint32_t secagg_abi_version(void);

/* ---------------------------------------------------------------------------------------------------------------
 * Status and errors
 */

/** The result of a call: SECAGG_OK or one of the error categories below. */
typedef int32_t secagg_status;

enum {
    /** Success. */
    SECAGG_OK = 0,
    /** A caller error: a NULL pointer with a non-zero length or where a result goes, a wrong length, an index out
     *  of range, a handle that is not live or of another type, or an input vector that does not fit the
     *  configuration (wrong count or length, an element outside its ring). */
    SECAGG_INVALID_ARGUMENT = 1,
    /** The configuration is refused: invalid fields, a threshold that does not protect privacy under the
     *  declared threat (kind "insecureThreshold"), more memory than allowed, a failed self-test, or a signing key
     *  that does not match the configured verification key. */
    SECAGG_CONFIGURATION_ERROR = 2,
    /** The bytes are malformed (truncated, trailing bytes, unknown tag, unsupported version, a count or index
     *  out of range, a bad field); the message was rejected and the party is unchanged. */
    SECAGG_WIRE_FORMAT_ERROR = 3,
    /** A protocol error: a message of another session or round, a duplicate, a sender that is not a participant
     *  (all rejected, the party unchanged), or a violation or failure that aborted the party or the session. */
    SECAGG_PROTOCOL_ERROR = 4,
    /** A quantization error: a plan that cannot avoid wrap-around, a non-finite value, a weight or aggregate out
     *  of range, a plan encoding that does not decode. */
    SECAGG_QUANTIZATION_ERROR = 5,
    /** What was asked for does not exist in the current state (a result before the session completed, a session
     *  id before the key broadcast, an abort reason of a party that did not abort). */
    SECAGG_INVALID_STATE = 6,
    /** An unexpected failure inside the library (reported, never a trap). */
    SECAGG_INTERNAL_ERROR = 7,
};

/** One line describing the calling thread's last failed call (static storage owned by the library, valid until
 *  the thread's next failed call); "" when no call failed on this thread. Never contains secret material. */
const char *secagg_last_error_message(void);

/** The name of the engine's error case behind the calling thread's last failure, e.g. "wrongSession",
 *  "truncated", "insecureThreshold", "nonFiniteValue", or "invalidArgument"; "" when no call failed. Stable
 *  across releases of one ABI version; useful for deciding what to do without parsing the message. */
const char *secagg_last_error_kind(void);

/* ---------------------------------------------------------------------------------------------------------------
 * Buffers
 */

/** A byte string the library allocated; the caller owns it and releases it with secagg_buffer_free. An empty
 *  result is {NULL, 0}. */
typedef struct secagg_buffer {
    uint8_t *data;
    size_t length;
} secagg_buffer;

/** Overwrites the buffer's bytes with zeros, releases them and sets it to {NULL, 0}. NULL, an empty buffer or a
 *  buffer that was already released (or not allocated by this library) is ignored. */
void secagg_buffer_free(secagg_buffer *buffer);

/* ---------------------------------------------------------------------------------------------------------------
 * Helpers
 */

/** Security models (SPEC.md §11.1). */
enum {
    SECAGG_SEMI_HONEST = 0,
    SECAGG_ACTIVE = 1,
};

/** Ring kinds of an input vector (SPEC.md §4.1): Z_{2^b} with value b (1...64), or Z_q with value q (2...2^62). */
enum {
    SECAGG_MODULUS_POWER_OF_TWO = 0,
    SECAGG_MODULUS_INTEGER = 1,
};

/** Rounds (SPEC.md §11.3): a client message answers one, a server message starts one. */
enum {
    SECAGG_ROUND_ADVERTISE_KEYS = 0,
    SECAGG_ROUND_SEED_REVEAL = 1, /* round 0′, sparse (Harary) graphs only */
    SECAGG_ROUND_SHARE_KEYS = 2,
    SECAGG_ROUND_MASKED_INPUT = 3,
    SECAGG_ROUND_CONSISTENCY_CHECK = 4, /* active model only */
    SECAGG_ROUND_UNMASKING = 5,
    SECAGG_ROUND_NONE = 255, /* the session is over */
};

/** The size of a session nonce, a configuration digest, a session id, an Ed25519 seed and public key. */
#define SECAGG_NONCE_BYTES 32
#define SECAGG_DIGEST_BYTES 32
#define SECAGG_SESSION_ID_BYTES 32
#define SECAGG_SIGNING_KEY_BYTES 32
#define SECAGG_VERIFICATION_KEY_BYTES 32
#define SECAGG_GENERATOR_SEED_BYTES 32

/** Writes a fresh session nonce (SECAGG_NONCE_BYTES bytes from the system CSPRNG) to `out`; `length` must be
 *  SECAGG_NONCE_BYTES. */
secagg_status secagg_random_nonce(uint8_t *out, size_t length);

/** The default Shamir threshold ⌈2k/3⌉ for k neighbours per client (k = n − 1 on the complete graph,
 *  min(harary_degree, n − 1) on a Harary graph; harary_degree 0 means complete); at least 1. */
uint32_t secagg_default_threshold(uint32_t client_count, uint32_t harary_degree);

/** The Ed25519 verification key (32 bytes, to `out`) of the signing key whose 32-byte seed is `seed`: what the
 *  active model's configuration lists for a client. `out_length` must be SECAGG_VERIFICATION_KEY_BYTES. */
secagg_status secagg_verification_key(const uint8_t *seed, size_t seed_length, uint8_t *out, size_t out_length);

/* ---------------------------------------------------------------------------------------------------------------
 * Session configuration (SPEC.md §11.1)
 */

typedef struct secagg_config secagg_config;

/** One named input vector. `name` is UTF-8 of `name_length` bytes (1...255; no terminator needed). */
typedef struct secagg_input_spec {
    const char *name;
    size_t name_length;
    uint64_t length;
    uint32_t modulus_kind;
    uint64_t modulus_value;
} secagg_input_spec;

/** The threat a configuration must withstand (SPEC.md §11.1): C corrupt clients, D dropouts, σ. */
typedef struct secagg_threat {
    uint32_t corrupt_clients;
    uint32_t dropped_clients;
    uint32_t sigma;
} secagg_threat;

/** Creates and validates a configuration: n clients, threshold t, model (SECAGG_SEMI_HONEST or SECAGG_ACTIVE),
 *  harary_degree (0: the complete graph; else an even degree k ≥ 2), threat (NULL: none assumed, σ = 40), the
 *  32-byte nonce, the inputs, and in the active model n Ed25519 verification keys of 32 bytes each
 *  (`verification_keys` holds verification_key_count × 32 bytes, client i's at position i − 1; count 0 in the
 *  semi-honest model). Refuses with SECAGG_CONFIGURATION_ERROR what the engine refuses (SPEC.md §11.1). */
secagg_status secagg_config_new(uint32_t client_count, uint32_t threshold, uint32_t model, uint32_t harary_degree,
                                const secagg_threat *threat, const uint8_t *nonce, size_t nonce_length,
                                const secagg_input_spec *inputs, size_t input_count,
                                const uint8_t *verification_keys, size_t verification_key_count,
                                secagg_config **out);

/** Decodes and validates the canonical encoding of SPEC.md §11.1. */
secagg_status secagg_config_decode(const uint8_t *bytes, size_t length, secagg_config **out);

/** The canonical encoding (SPEC.md §11.1): what the server publishes to the clients. */
secagg_status secagg_config_encode(const secagg_config *config, secagg_buffer *out);

/** Scalar fields of a configuration. */
typedef struct secagg_config_info {
    uint32_t client_count;
    uint32_t threshold;
    uint32_t model;
    uint32_t harary_degree;  /* 0: complete graph */
    uint32_t degree;         /* neighbours per client: n − 1, or min(k, n − 1) */
    uint32_t sparse;         /* 1 when the graph is Harary with k < n − 1 (round 0′ is played) */
    secagg_threat threat;
    uint32_t input_count;
    uint32_t verification_key_count;
    uint8_t nonce[SECAGG_NONCE_BYTES];
    uint8_t digest[SECAGG_DIGEST_BYTES]; /* SHA-256("secagg/v1/config" || encoding) */
    uint64_t max_server_message_bytes;   /* the longest server message a client can receive */
} secagg_config_info;

/** Fills `out` with the configuration's scalar fields. */
secagg_status secagg_config_get_info(const secagg_config *config, secagg_config_info *out);

/** Input `index` (0-based): `out->name` points into the configuration's memory and stays valid until
 *  secagg_config_free. */
secagg_status secagg_config_get_input(const secagg_config *config, size_t index, secagg_input_spec *out);

/** Client `client`'s (1...n) verification key, 32 bytes to `out` (`out_length` must be 32); active model. */
secagg_status secagg_config_get_verification_key(const secagg_config *config, uint32_t client, uint8_t *out,
                                                 size_t out_length);

/** The longest client message of `round` (a SECAGG_ROUND_* value), so that a server's transport can refuse a
 *  longer frame before reading it. */
secagg_status secagg_config_max_client_message_bytes(const secagg_config *config, uint32_t round, uint64_t *out);

/** Releases the configuration (clients and servers made from it keep their own copy). */
void secagg_config_free(secagg_config *config);

/* ---------------------------------------------------------------------------------------------------------------
 * Client
 */

typedef struct secagg_client secagg_client;

/** Client states. */
enum {
    SECAGG_CLIENT_ADVERTISE_KEYS = 0,    /* not started: secagg_client_start */
    SECAGG_CLIENT_SEED_REVEAL = 1,       /* waiting for the key broadcast (sparse graphs) */
    SECAGG_CLIENT_SHARE_KEYS = 2,        /* waiting for the key broadcast (or the seed reveals) */
    SECAGG_CLIENT_MASKED_INPUT = 3,      /* waiting for the forwarded shares */
    SECAGG_CLIENT_INPUT_REQUIRED = 4,    /* the shares arrived, the input did not: secagg_client_provide_input */
    SECAGG_CLIENT_CONSISTENCY_CHECK = 5, /* waiting for the survivor set (active model) */
    SECAGG_CLIENT_UNMASKING = 6,         /* waiting for the unmasking request */
    SECAGG_CLIENT_AWAITING_OUTCOME = 7,  /* shares revealed, secrets released; waiting for the end of the session */
    SECAGG_CLIENT_COMPLETED = 8,         /* the aggregation completed (see input_included) */
    SECAGG_CLIENT_ABORTED = 9,           /* stopped; every later message is refused */
};

/** A client with index `client_index` (1...n) of `config`, validated as SPEC.md §11.1 and §11.8 require. In the
 *  active model `signing_key` is its 32-byte Ed25519 seed, whose public key must be the configuration's key for
 *  this index; in the semi-honest model pass NULL, 0. Randomness comes from the system CSPRNG. */
secagg_status secagg_client_new(const secagg_config *config, uint32_t client_index, const uint8_t *signing_key,
                                size_t signing_key_length, secagg_client **out);

/** Like secagg_client_new, but every random draw (keys, self-mask seed, Shamir coefficients, AEAD nonces) comes
 *  from the generator of SPEC.md §2.6 seeded with the 32 bytes `generator_seed`. Two uses: replaying the protocol
 *  transcripts of Vectors/protocol/ (published seeds: tests only), and rebuilding a client in a runtime that keeps
 *  no process between messages (the same secret seed and accepted messages give the same client). In a
 *  deployment the seed must be 32 fresh bytes from a CSPRNG per client and session, kept as secret as the keys
 *  it generates, and never reused. */
secagg_status secagg_client_new_deterministic(const secagg_config *config, uint32_t client_index,
                                              const uint8_t *signing_key, size_t signing_key_length,
                                              const uint8_t *generator_seed, size_t generator_seed_length,
                                              secagg_client **out);

/** The round-0 message (AdvertiseKeys), to send to the server. */
secagg_status secagg_client_start(secagg_client *client, secagg_buffer *message);

/** Handles one server message; `reply` receives the message to send back, or {NULL, 0} when there is nothing to
 *  send (the session ended, or the input is still missing: state SECAGG_CLIENT_INPUT_REQUIRED). A rejected
 *  message leaves the client unchanged (see CONVENTIONS). */
secagg_status secagg_client_handle(secagg_client *client, const uint8_t *message, size_t length,
                                   secagg_buffer *reply);

/** Gives (or replaces) the input: `vector_count` vectors, one per configured input in order, vector i at
 *  `vectors[i]` with `lengths[i]` elements, each canonical in its ring (< q; < 2^b). Before the forwarded shares
 *  arrive the input is kept and `reply` is {NULL, 0}; in SECAGG_CLIENT_INPUT_REQUIRED the masked input is
 *  computed now and `reply` receives it, to send to the server. A wrong shape or element is refused with
 *  SECAGG_INVALID_ARGUMENT and changes nothing. */
secagg_status secagg_client_provide_input(secagg_client *client, const uint64_t *const *vectors,
                                          const size_t *lengths, size_t vector_count, secagg_buffer *reply);

/** The client's state (SECAGG_CLIENT_*) and, once completed, whether its input is in the sum (1) or not (0);
 *  `input_included` may be NULL. */
secagg_status secagg_client_state(const secagg_client *client, uint32_t *state, uint32_t *input_included);

/** Why the client aborted (one line, to `reason`); SECAGG_INVALID_STATE unless it aborted. */
secagg_status secagg_client_abort_reason(const secagg_client *client, secagg_buffer *reason);

/** The session id (32 bytes to `out`, `out_length` 32) from the key broadcast until the client completes or
 *  aborts; SECAGG_INVALID_STATE otherwise. */
secagg_status secagg_client_session_id(const secagg_client *client, uint8_t *out, size_t out_length);

/** Releases the client and every secret it still holds. */
void secagg_client_free(secagg_client *client);

/* ---------------------------------------------------------------------------------------------------------------
 * Server
 */

typedef struct secagg_server secagg_server;

/** The messages a step of the server asks the caller to send: each distinct message once, with its recipients
 *  (a broadcast to every client is one message with n recipients, never n copies). */
typedef struct secagg_outbox secagg_outbox;

/** Server states. */
enum {
    SECAGG_SERVER_COLLECTING = 0, /* accepting the messages of the current round */
    SECAGG_SERVER_COMPLETED = 1,  /* the result is available */
    SECAGG_SERVER_ABORTED = 2,    /* the session stopped (secagg_server_abort_reason) */
};

/** What closing a round led to. */
enum {
    SECAGG_STEP_NEXT_ROUND = 0, /* the server now collects the given round; send the outbox */
    SECAGG_STEP_COMPLETED = 1,  /* the result is available; send the end-of-session messages */
    SECAGG_STEP_ABORTED = 2,    /* the session stopped; send the abort notices */
};

/** A server for `config` (validated; SPEC.md §11.1, §11.8). */
secagg_status secagg_server_new(const secagg_config *config, secagg_server **out);

/** Worker threads for the unmasking step (≥ 1; default: every core). */
secagg_status secagg_server_set_unmasking_threads(secagg_server *server, uint32_t threads);

/** Accepts one client message from `sender` (1...n), the client the transport authenticated: the engine trusts
 *  this index (SPEC.md §11.5), so it must come from the connection, never from the message. A rejected message
 *  leaves the server unchanged. */
secagg_status secagg_server_receive(secagg_server *server, const uint8_t *message, size_t length, uint32_t sender);

/** Closes the current round (when every awaited client answered, or at its deadline: whoever did not answer
 *  is dropped) and returns the step's outbox, which the caller releases with secagg_outbox_free. Closing the
 *  unmasking round removes the masks (CPU-heavy, on up to the unmasking threads). */
secagg_status secagg_server_advance(secagg_server *server, secagg_outbox **outbox);

/** Stops the session (a shutdown, a global deadline): the outbox holds the abort notices. */
secagg_status secagg_server_abort(secagg_server *server, secagg_outbox **outbox);

/** Removes one client (its connection died, or it misbehaved): it is no longer awaited and its later messages
 *  are refused; `notice` receives the abort message to send it if it is still reachable. */
secagg_status secagg_server_abort_client(secagg_server *server, uint32_t client, secagg_buffer *notice);

/** The state (SECAGG_SERVER_*) and the round being collected (SECAGG_ROUND_NONE once over); `round` may be
 *  NULL. */
secagg_status secagg_server_state(const secagg_server *server, uint32_t *state, uint32_t *round);

/** Why the session aborted (one line); SECAGG_INVALID_STATE unless it did. */
secagg_status secagg_server_abort_reason(const secagg_server *server, secagg_buffer *reason);

/** The clients whose message of the current round has not arrived, ascending: `*count` receives how many there
 *  are, and the first min(count, capacity) are written to `clients` (which may be NULL when capacity is 0). */
secagg_status secagg_server_awaited_clients(const secagg_server *server, uint32_t *clients, size_t capacity,
                                            size_t *count);

/** 1 when every awaited client answered (advance now), else 0. */
secagg_status secagg_server_is_round_complete(const secagg_server *server, uint32_t *complete);

/** The session id (32 bytes) once round 0 closed; SECAGG_INVALID_STATE before. */
secagg_status secagg_server_session_id(const secagg_server *server, uint8_t *out, size_t out_length);

/** Once completed: the clients whose inputs are in the sum (U3), ascending, as secagg_server_awaited_clients
 *  returns lists. SECAGG_INVALID_STATE before. */
secagg_status secagg_server_result_included(const secagg_server *server, uint32_t *clients, size_t capacity,
                                            size_t *count);

/** Once completed: the sum of input `input_index` (0-based), `length` elements (exactly the input's length) to
 *  `elements`. SECAGG_INVALID_STATE before. */
secagg_status secagg_server_result_vector(const secagg_server *server, size_t input_index, uint64_t *elements,
                                          size_t length);

/** Once completed: how many clients were caught deviating while the session still completed (undecryptable
 *  share ciphertexts, invalid revealed shares; SPEC.md §11.4). */
secagg_status secagg_server_result_flagged_count(const secagg_server *server, size_t *count);

/** Flagged entry `index`: the client, and one line saying what was observed. */
secagg_status secagg_server_result_flagged(const secagg_server *server, size_t index, uint32_t *client,
                                           secagg_buffer *description);

/** Releases the server and every secret it still holds. */
void secagg_server_free(secagg_server *server);

/** The step (SECAGG_STEP_*) and, for SECAGG_STEP_NEXT_ROUND, the round now collected (else SECAGG_ROUND_NONE);
 *  `round` may be NULL. */
secagg_status secagg_outbox_step(const secagg_outbox *outbox, uint32_t *step, uint32_t *round);

/** The number of distinct messages. */
secagg_status secagg_outbox_message_count(const secagg_outbox *outbox, size_t *count);

/** Message `index`: its bytes and its recipients (ascending). The pointers point into the outbox and stay valid
 *  until secagg_outbox_free. */
secagg_status secagg_outbox_message(const secagg_outbox *outbox, size_t index, const uint8_t **bytes,
                                    size_t *length, const uint32_t **recipients, size_t *recipient_count);

/** Releases the outbox. */
void secagg_outbox_free(secagg_outbox *outbox);

/* ---------------------------------------------------------------------------------------------------------------
 * Quantization plan (SPEC.md §7)
 */

typedef struct secagg_plan secagg_plan;

/** Rounding modes. */
enum {
    SECAGG_ROUNDING_STOCHASTIC = 0,
    SECAGG_ROUNDING_NEAREST = 1,
};

/** The plan with the largest scale for which the sum of `client_count` inputs clipped to ±clip_range (and
 *  weighted by at most maximum_weight) can never wrap in the ring; maximum_weight 0 makes an unweighted plan
 *  (no weight coordinate), 1...2^53 a weighted one (FedAvg: the weight travels as one extra coordinate). */
secagg_status secagg_plan_new(uint64_t client_count, double clip_range, uint32_t modulus_kind, uint64_t modulus_value,
                              uint64_t maximum_weight, uint32_t rounding, secagg_plan **out);

/** Decodes (and re-validates) a plan from its JSON encoding. */
secagg_status secagg_plan_decode(const uint8_t *bytes, size_t length, secagg_plan **out);

/** The plan's JSON encoding (UTF-8, keys sorted: clientCount, clipRange, maximumWeight when weighted, modulus,
 *  rounding, scale). */
secagg_status secagg_plan_encode(const secagg_plan *plan, secagg_buffer *out);

/** A plan's parameters and derived bounds. */
typedef struct secagg_plan_info {
    uint64_t client_count;
    double clip_range;
    uint32_t modulus_kind;
    uint64_t modulus_value;
    double scale;
    uint64_t maximum_weight;        /* 0: unweighted */
    uint32_t rounding;
    double worst_case_mean_error;   /* per coordinate of a decoded mean, every weight ≥ 1: δ/s */
    uint64_t element_bound;         /* the largest magnitude of one client's rounded coordinate */
} secagg_plan_info;

/** Fills `out`. */
secagg_status secagg_plan_get_info(const secagg_plan *plan, secagg_plan_info *out);

/** Quantizes `count` float32 (or float64) values with `weight` (exactly 1 for an unweighted plan; 0...maximum
 *  for a weighted one) into `out`, which must hold exactly count (+1 when weighted: the weight) elements;
 *  `clipped` (may be NULL) receives how many values were clipped. Stochastic rounding draws from the system
 *  CSPRNG. A NaN or infinity is refused (SECAGG_QUANTIZATION_ERROR, kind "nonFiniteValue"). */
secagg_status secagg_plan_quantize_f32(const secagg_plan *plan, const float *values, size_t count, uint64_t weight,
                                       uint64_t *out, size_t out_length, uint64_t *clipped);
secagg_status secagg_plan_quantize_f64(const secagg_plan *plan, const double *values, size_t count, uint64_t weight,
                                       uint64_t *out, size_t out_length, uint64_t *clipped);

/** Decodes the mean from an aggregate (`count` elements) summed over `included_clients` clients: the decoded sum
 *  divided by the total weight (weighted plans, read from the last coordinate) or by included_clients. Writes
 *  count (−1 when weighted) values to `out` (`out_length` must be that). An aggregate a sum of that many clients
 *  cannot produce is refused (SECAGG_QUANTIZATION_ERROR, kind "aggregateOutOfRange"). */
secagg_status secagg_plan_decode_mean(const secagg_plan *plan, const uint64_t *aggregate, size_t count,
                                      uint64_t included_clients, double *out, size_t out_length);

/** The total weight carried by the aggregate's last coordinate (weighted plans; included_clients otherwise). */
secagg_status secagg_plan_decode_total_weight(const secagg_plan *plan, const uint64_t *aggregate, size_t count,
                                              uint64_t included_clients, uint64_t *total_weight);

/** Releases the plan. */
void secagg_plan_free(secagg_plan *plan);

#ifdef __cplusplus
}
#endif

#endif /* SECAGG_H */
