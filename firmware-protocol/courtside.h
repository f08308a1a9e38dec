/*
 * courtside.h: constants of the Courtside wire protocol for ESP32 firmware
 * (ESP-IDF or Arduino). Plain C99; also compiles as C++.
 *
 * The protocol itself is described in PROTOCOL.md beside this file, and every
 * frame has a JSON Schema under schemas/. The strings here are the ones the
 * gateway matches on; test/protocol checks them against the TypeScript source.
 */
#ifndef COURTSIDE_H
#define COURTSIDE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a frame changes incompatibly; the gateway advertises it as mDNS TXT "pv". */
#define COURTSIDE_PROTOCOL_VERSION 1

/* ---- Connecting -------------------------------------------------------- */

/* TCP port of the gateway's HTTP and WebSocket server (the seeds' port). */
#define COURTSIDE_DEFAULT_PORT 8765

/* Endpoint paths. A board connects to COURTSIDE_PATH_BOARD "<device_code>/",
 * e.g. "/ws/esp32/racket-01/". Ids: 1 to 128 of [A-Za-z0-9_.:@-], not percent-encoded. */
#define COURTSIDE_PATH_LEGACY   "/"
#define COURTSIDE_PATH_BOARD    "/ws/esp32/"
#define COURTSIDE_PATH_USER     "/ws/miniprogram/"
#define COURTSIDE_PATH_OPERATOR "/ws/admin/"
#define COURTSIDE_ID_MAX_LEN    128

/* Query parameter carrying the device token when the gateway runs with --device-auth token:
 * "/ws/esp32/racket-01/?token=<token>". */
#define COURTSIDE_TOKEN_PARAM "token"

/* ---- Limits (gateway defaults) ------------------------------------------ */

/* Largest frame accepted, bytes; larger: FRAME_TOO_LARGE; over 4x: the connection is closed (1009). */
#define COURTSIDE_MAX_FRAME_BYTES 262144
/* Frames per second a client may send, sustained (twice that as a burst); more: RATE_LIMITED. */
#define COURTSIDE_MAX_FRAMES_PER_SECOND 500
/* Samples in one batch_sensor_data frame, at most. */
#define COURTSIDE_MAX_BATCH_SAMPLES 2000
/* Samples in one binary sample frame, at most (see courtside_batch_header_t). */
#define COURTSIDE_BINARY_MAX_SAMPLES 4000
/* The gateway pings every 15 s and closes a connection that answered nothing for two pings. */
#define COURTSIDE_PING_INTERVAL_MS 15000
/* Send a heartbeat frame this often (recommended), so operators see the board as fresh. */
#define COURTSIDE_HEARTBEAT_INTERVAL_MS 10000
/* A pushed command that is not acked is pushed again after this long. */
#define COURTSIDE_COMMAND_RESEND_MS 10000

/* ---- Frames a board sends (field "type") --------------------------------- */

#define COURTSIDE_FRAME_HEARTBEAT         "heartbeat"
#define COURTSIDE_FRAME_STATUS_UPDATE     "status_update"
#define COURTSIDE_FRAME_POLL_COMMANDS     "poll_commands"
#define COURTSIDE_FRAME_SENSOR_DATA       "sensor_data"
#define COURTSIDE_FRAME_BATCH_SENSOR_DATA "batch_sensor_data"
#define COURTSIDE_FRAME_UPLOAD_COMPLETE   "upload_complete"
#define COURTSIDE_FRAME_COMMAND_ACK       "command_ack"
#define COURTSIDE_FRAME_OTA_PROGRESS      "ota_progress"

/* ---- Frames the gateway sends to a board ---------------------------------- */

#define COURTSIDE_FRAME_CONNECTION_ESTABLISHED "connection_established"
#define COURTSIDE_FRAME_HEARTBEAT_ACK          "heartbeat_ack"
#define COURTSIDE_FRAME_STATUS_ACK             "status_ack"
#define COURTSIDE_FRAME_COMMANDS               "commands"
#define COURTSIDE_FRAME_COMMAND                "command"
#define COURTSIDE_FRAME_DATA_ACK               "data_ack"
#define COURTSIDE_FRAME_UPLOAD_ACK             "upload_ack"
#define COURTSIDE_FRAME_DATA_ACKS              "data_acks"
#define COURTSIDE_FRAME_RESEND                 "resend"
#define COURTSIDE_FRAME_ERROR                  "error"

/* ---- Commands the gateway sends (field "command"); boards may get others -- */

#define COURTSIDE_CMD_START_COLLECTION "start_collection"
#define COURTSIDE_CMD_STOP_COLLECTION  "stop_collection"
#define COURTSIDE_CMD_STATUS           "status"
#define COURTSIDE_CMD_REBOOT           "reboot"
#define COURTSIDE_CMD_IDENTIFY         "identify"
#define COURTSIDE_CMD_OTA_UPDATE       "ota_update"

/* ---- Error codes (field "code" of an error frame) ------------------------ */

#define COURTSIDE_ERR_INVALID_JSON     "INVALID_JSON"
#define COURTSIDE_ERR_NOT_AN_OBJECT    "NOT_AN_OBJECT"
#define COURTSIDE_ERR_BAD_FRAME        "BAD_FRAME"
#define COURTSIDE_ERR_UNKNOWN_TYPE     "UNKNOWN_TYPE"
#define COURTSIDE_ERR_NOT_IDENTIFIED   "NOT_IDENTIFIED"
#define COURTSIDE_ERR_ROOM_NOT_FOUND   "ROOM_NOT_FOUND"
#define COURTSIDE_ERR_TARGET_NOT_FOUND "TARGET_NOT_FOUND"
#define COURTSIDE_ERR_RATE_LIMITED     "RATE_LIMITED"
#define COURTSIDE_ERR_FRAME_TOO_LARGE  "FRAME_TOO_LARGE"
#define COURTSIDE_ERR_UNAUTHORIZED     "UNAUTHORIZED"
#define COURTSIDE_ERR_NOT_FOUND        "NOT_FOUND"
#define COURTSIDE_ERR_UNAVAILABLE      "UNAVAILABLE"
#define COURTSIDE_ERR_BAD_BINARY       "BAD_BINARY"
#define COURTSIDE_ERR_CONFLICT         "CONFLICT"
#define COURTSIDE_ERR_QUOTA_EXCEEDED   "QUOTA_EXCEEDED"
#define COURTSIDE_ERR_ROOM_FORBIDDEN   "ROOM_FORBIDDEN"
#define COURTSIDE_ERR_HANDLER_FAILED   "HANDLER_FAILED"

/* ---- WebSocket close codes the gateway uses ------------------------------ */

#define COURTSIDE_CLOSE_GOING_AWAY   1001 /* the gateway is shutting down: reconnect with backoff */
#define COURTSIDE_CLOSE_TOO_BIG      1009 /* a frame over 4x COURTSIDE_MAX_FRAME_BYTES */
#define COURTSIDE_CLOSE_REPLACED     4000 /* a newer connection with the same id took over: do not reconnect in a loop */
#define COURTSIDE_CLOSE_UNAUTHORIZED 4401 /* endpoint "/": token missing or wrong */
#define COURTSIDE_CLOSE_TOKEN_REVOKED 4403 /* this device's token was revoked: do not reconnect until given a new one */
#define COURTSIDE_CLOSE_TOO_MANY_NEW  4429 /* too many new device ids from this address: retry later with backoff */

/* ---- Discovery ----------------------------------------------------------- */

/* mDNS/DNS-SD: the gateway advertises _courtside._tcp; with ESP-IDF's mdns component:
 * mdns_query_ptr(COURTSIDE_MDNS_SERVICE, COURTSIDE_MDNS_PROTO, 3000, 4, &results).
 * TXT keys: "pv" protocol version, "path" board path, "auth" open|token, "id" gateway id,
 * and with TLS "sha256": the certificate's SHA-256 (hex) to pin; connect with wss://. */
#define COURTSIDE_MDNS_SERVICE     "_courtside"
#define COURTSIDE_MDNS_PROTO       "_tcp"
/* A board may advertise itself as _courtside-dev._tcp (TXT "id", "mac", "board", "fw"). */
#define COURTSIDE_MDNS_DEV_SERVICE "_courtside-dev"

/* UDP fallback when multicast is dropped: broadcast a courtside_probe frame to this port,
 * the gateway answers courtside_here unicast. */
#define COURTSIDE_PROBE_PORT        8766
#define COURTSIDE_PROBE_MAX_BYTES   512
#define COURTSIDE_PROBE_TYPE        "courtside_probe"
#define COURTSIDE_PROBE_ANSWER_TYPE "courtside_here"
#define COURTSIDE_DISCOVERY_VERSION 1

/* ---- NVS ----------------------------------------------------------------- */

/* USB provisioning writes the board's configuration to NVS, namespace COURTSIDE_NVS_NAMESPACE
 * of partition COURTSIDE_NVS_PARTITION (it rewrites that whole partition). Read it at boot:
 * nvs_open_from_partition(COURTSIDE_NVS_PARTITION, COURTSIDE_NVS_NAMESPACE, NVS_READONLY, &h).
 * Absent cfg_ver, wifi_ssid or device_id: the board is not provisioned. Absent optional keys:
 * the default given below. String lengths are in bytes, without the NUL. */
#define COURTSIDE_NVS_PARTITION      "nvs"
#define COURTSIDE_NVS_NAMESPACE      "courtside"
#define COURTSIDE_NVS_CONFIG_VERSION 1 /* cfg_ver this header describes; a higher one: do not guess */

#define COURTSIDE_NVS_KEY_CFG_VER      "cfg_ver"      /* u8, required: layout version, 1 */
#define COURTSIDE_NVS_KEY_WIFI_SSID    "wifi_ssid"    /* string, required, up to 32 bytes */
#define COURTSIDE_NVS_KEY_WIFI_PASS    "wifi_pass"    /* string, up to 64 bytes; absent or empty: open network */
#define COURTSIDE_NVS_KEY_GW_HOST      "gw_host"      /* string, up to 253 bytes; absent: find the gateway by mDNS */
#define COURTSIDE_NVS_KEY_GW_PORT      "gw_port"      /* u16, 1 to 65535; absent: COURTSIDE_DEFAULT_PORT */
#define COURTSIDE_NVS_KEY_GW_PATH      "gw_path"      /* string, up to 64 bytes; absent: COURTSIDE_PATH_BOARD */
#define COURTSIDE_NVS_KEY_GW_SHA256    "gw_sha256"    /* string, up to 64 bytes: TLS certificate SHA-256 (hex); absent: ws:// */
#define COURTSIDE_NVS_KEY_DEVICE_ID    "device_id"    /* string, required, up to 64 bytes: the device code */
#define COURTSIDE_NVS_KEY_DEVICE_TOKEN "device_token" /* string, up to 128 bytes; absent: connect without ?token= */
#define COURTSIDE_NVS_KEY_ROOM_ID      "room_id"      /* string, up to 32 bytes; absent: no room */
#define COURTSIDE_NVS_KEY_SAMPLE_HZ    "sample_hz"    /* u16, 1 to 4000; absent: the firmware's own rate */

/* ---- Samples ------------------------------------------------------------- */

/* One IMU sample, in the order of a batch_sensor_data row: [ax, ay, az, gx, gy, gz]. */
typedef struct {
    float ax; /* acceleration along x, g (1 g = 9.80665 m/s^2) */
    float ay; /* acceleration along y, g */
    float az; /* acceleration along z, g */
    float gx; /* angular speed around x, degrees per second */
    float gy; /* angular speed around y, degrees per second */
    float gz; /* angular speed around z, degrees per second */
} courtside_sample_t;

/* ---- Binary sample frame -------------------------------------------------- */

/* A WebSocket *binary* message on the board endpoint: this 32-byte header, then `count`
 * samples of six int16 (courtside_raw_sample_t), everything little-endian (as the ESP32 is,
 * so a board copies its structs as they are). Sample values are raw sensor counts:
 * g = ax * accel_scale, degrees/s = gx * gyro_scale. Acked by data_ack like a
 * batch_sensor_data frame; the board's current session is assumed. */
#define COURTSIDE_BINARY_MAGIC_0      0x43 /* 'C' */
#define COURTSIDE_BINARY_MAGIC_1      0x53 /* 'S' */
#define COURTSIDE_BINARY_VERSION      1
#define COURTSIDE_BINARY_CHANNELS     6
#define COURTSIDE_BINARY_HEADER_BYTES 32

#if defined(__GNUC__) || defined(__clang__)
#define COURTSIDE_PACKED __attribute__((packed))
#else
#define COURTSIDE_PACKED /* the fields are naturally aligned: no padding either way */
#endif

typedef struct COURTSIDE_PACKED {
    uint8_t  magic[2];    /* offset  0: COURTSIDE_BINARY_MAGIC_0, COURTSIDE_BINARY_MAGIC_1 ("CS") */
    uint8_t  version;     /* offset  2: COURTSIDE_BINARY_VERSION */
    uint8_t  channels;    /* offset  3: COURTSIDE_BINARY_CHANNELS (ax ay az gx gy gz) */
    uint32_t seq;         /* offset  4: +1 per sample frame, from 0 in every session */
    double   start_ms;    /* offset  8: time of the first sample, ms (float64, finite) */
    float    rate_hz;     /* offset 16: sample rate, > 0 and <= 10000; sample i at start_ms + i*1000/rate_hz */
    uint16_t count;       /* offset 20: samples that follow, 1 to COURTSIDE_BINARY_MAX_SAMPLES */
    uint16_t reserved;    /* offset 22: 0 */
    float    accel_scale; /* offset 24: g per LSB, > 0 (16.0f/32768 for +-16 g) */
    float    gyro_scale;  /* offset 28: degrees/s per LSB, > 0 (2000.0f/32768 for +-2000 dps) */
} courtside_batch_header_t;

/* One sample of a binary frame, in raw sensor counts. */
typedef struct COURTSIDE_PACKED {
    int16_t ax, ay, az; /* times accel_scale: g */
    int16_t gx, gy, gz; /* times gyro_scale: degrees per second */
} courtside_raw_sample_t;

#if defined(__cplusplus) && __cplusplus >= 201103L
static_assert(sizeof(courtside_batch_header_t) == COURTSIDE_BINARY_HEADER_BYTES, "courtside_batch_header_t must be 32 bytes");
static_assert(sizeof(courtside_raw_sample_t) == 2 * COURTSIDE_BINARY_CHANNELS, "courtside_raw_sample_t must be 12 bytes");
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(courtside_batch_header_t) == COURTSIDE_BINARY_HEADER_BYTES, "courtside_batch_header_t must be 32 bytes");
_Static_assert(sizeof(courtside_raw_sample_t) == 2 * COURTSIDE_BINARY_CHANNELS, "courtside_raw_sample_t must be 12 bytes");
#else /* C99: an array of negative size fails the build */
typedef char courtside_batch_header_is_32_bytes[(sizeof(courtside_batch_header_t) == COURTSIDE_BINARY_HEADER_BYTES) ? 1 : -1];
typedef char courtside_raw_sample_is_12_bytes[(sizeof(courtside_raw_sample_t) == 2 * COURTSIDE_BINARY_CHANNELS) ? 1 : -1];
#endif

#ifdef __cplusplus
}
#endif

#endif /* COURTSIDE_H */
