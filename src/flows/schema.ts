/**
 * The SQLite schema of a tcpdiag store: the one place it is defined. Bump
 * SCHEMA_VERSION (PRAGMA user_version) on any change; a store of another version
 * is refused rather than misread. Times are microseconds since the epoch (UTC),
 * durations microseconds; sequence numbers are raw unsigned 32-bit values;
 * "client" is the side that sent the SYN (or the side the port heuristic chose,
 * when roles_inferred = 1).
 *
 * Version 7: a split handshake or simultaneous open (the server's own SYN) is established when
 * both SYNs were acknowledged (handshake_acked, connect_usec to the server's ACK of the SYN);
 * answer 'syn'; attempts.outcome 'other-answer'. Version 6 read such connections as unanswered.
 * Version 7 also added connections.tunnel_vxlan_port, capture_pieces.zstd_window_bytes and captures.clock.
 * Version 8: stale-ack and challenge-ack findings keep their typed columns only (summary and
 * evidence NULL, rendered from connections and events when read: `tcpdiag findings`).
 * Version 9: events is a WITHOUT ROWID table keyed by (conn_id, frame, kind), which replaces the
 * ev_conn index.
 */
export const SCHEMA_VERSION = 9;

/**
 * PRAGMA application_id of a tcpdiag store ("tcpd"), set when the store is created: it
 * tells a tcpdiag store from another application's SQLite file, which --db refuses.
 */
export const APPLICATION_ID = 0x74637064;

export const SCHEMA_SQL = `
-- One row per capture point read into this store: one file, or the pieces of a rotated set
-- (capture_pieces) read in time order as one capture.
CREATE TABLE IF NOT EXISTS captures (
  id                INTEGER PRIMARY KEY,
  path              TEXT NOT NULL,      -- as given on the command line (the first piece's); '-' for standard input
  name              TEXT NOT NULL,      -- file name only (or the --point name), used in stable finding ids
  format            TEXT,               -- pcap | pcapng
  compression       TEXT,               -- gzip, zstd (the first piece's), or NULL
  link_types        TEXT,               -- JSON array of link-type numbers seen
  frames            INTEGER NOT NULL,   -- all records, as Wireshark numbers frames
  tcp_packets       INTEGER NOT NULL,
  first_ts_usec     INTEGER,
  last_ts_usec      INTEGER,
  skipped           TEXT,               -- JSON object: reason -> frames not decoded as TCP
  truncated_packets INTEGER NOT NULL DEFAULT 0, -- caplen < origlen (snaplen)
  bytes_read        INTEGER,
  error             TEXT,               -- one-line reason reading stopped early, NULL if read whole
  error_offset      INTEGER,            -- byte offset of that error
  -- complete: reading finished (whole or up to error) and every connection is written.
  -- interrupted: the run stopped while reading it (a signal, a full disk, a killed process);
  -- its connections are those written before. Inserted as interrupted, set complete at the end,
  -- so a process that dies leaves the mark without having to write it.
  status            TEXT NOT NULL DEFAULT 'interrupted' CHECK (status IN ('complete', 'interrupted')),
  source            TEXT,               -- file | stdin | fifo | device | socket (a stream is read without seeking)
  content_sha256    TEXT,               -- SHA-256 of the capture bytes (decompressed) of a one-piece capture
  grouping          TEXT NOT NULL DEFAULT 'file', -- file (one file) | rotated (pieces whose time ranges follow one another) | point (--point)
  filter            TEXT,               -- the narrowing applied before tracking (--since/--until/--host/--net/--port), NULL if none
  filtered_packets  INTEGER NOT NULL DEFAULT 0, -- TCP packets the narrowing left out
  clock             TEXT                -- JSON ClockFacts (src/decode/clock.ts) when the clock steps implausibly or runs past exact µs, NULL otherwise
);

-- The files a capture point was read from, in reading order. Frames are numbered across the
-- pieces (piece k's frame f is frame first_frame + f - 1 of the capture), so evidence
-- (connections.*_frame, events.frame) maps back to a file and its own frame number.
CREATE TABLE IF NOT EXISTS capture_pieces (
  capture_id      INTEGER NOT NULL REFERENCES captures(id),
  seq             INTEGER NOT NULL,   -- 0, 1, ... in reading (time) order
  path            TEXT NOT NULL,
  name            TEXT NOT NULL,
  content_sha256  TEXT,               -- SHA-256 of the capture bytes (decompressed)
  first_frame     INTEGER NOT NULL,   -- the capture's frame number of this file's frame 1
  frames          INTEGER NOT NULL,
  first_ts_usec   INTEGER,
  last_ts_usec    INTEGER,
  error           TEXT,
  -- zstd: the window its first frame needs, in bytes (RFC 8878 §3.1.1.1.2, as zstd -lv shows
  -- it); NULL when not zstd. Over 128 MiB (libzstd's default limit) tshark and zstd -d refuse
  -- the file ("Frame requires too much memory for decoding"); zstd -d --memory= reads it.
  zstd_window_bytes INTEGER,
  PRIMARY KEY (capture_id, seq)
);

-- One row per TCP connection incarnation: a 4-tuple from one SYN to its close.
CREATE TABLE IF NOT EXISTS connections (
  id                  INTEGER PRIMARY KEY,
  capture_id          INTEGER NOT NULL REFERENCES captures(id),
  ip_version          INTEGER NOT NULL,
  client_addr         TEXT NOT NULL,
  client_port         INTEGER NOT NULL,
  server_addr         TEXT NOT NULL,
  server_port         INTEGER NOT NULL,
  roles_inferred      INTEGER NOT NULL,   -- 1: no SYN or SYN-ACK seen, roles from port numbers
  incarnation         INTEGER NOT NULL,   -- 0 for the first connection seen on this tuple
  prev_id             INTEGER,            -- previous incarnation on the same tuple (same capture)
  prev_gap_usec       INTEGER,            -- from the previous incarnation's close to this first packet
  prev_active_closer  TEXT,               -- client | server | NULL: who sent the previous first FIN
  prev_client_next    INTEGER,            -- previous incarnation's client sequence after its FIN
  prev_server_next    INTEGER,            -- previous incarnation's server sequence after its FIN
  first_ts_usec       INTEGER NOT NULL,
  last_ts_usec        INTEGER NOT NULL,
  first_frame         INTEGER NOT NULL,
  conn_state          TEXT NOT NULL,      -- Zeek conn_state (S0, SF, REJ, ...)
  history             TEXT NOT NULL,      -- Zeek history letters (client upper case)
  client_isn          INTEGER,            -- NULL when no SYN was seen
  server_isn          INTEGER,            -- NULL when no SYN-ACK was seen
  syn_count           INTEGER NOT NULL,   -- SYNs from the client with this ISN (1 + retransmits)
  syn_frame           INTEGER,            -- first SYN
  syn_ts_usec         INTEGER,
  last_syn_ts_usec    INTEGER,
  synack_count        INTEGER NOT NULL,   -- SYN-ACKs from the server (1 + retransmits)
  synack_frame        INTEGER,
  synack_ts_usec      INTEGER,
  server_syn_count    INTEGER NOT NULL,   -- SYN without ACK from the server side (split handshake)
  answer              TEXT NOT NULL,      -- first server reply to the SYN: synack | rst | ack | syn (its own SYN without ACK) | none
  answer_frame        INTEGER,
  answer_ts_usec      INTEGER,
  answer_seq          INTEGER,
  answer_ack          INTEGER,
  answer_flags        INTEGER,
  -- The SYN-ACK the client took is the first one after its last SYN sent before its handshake ACK:
  -- a client that sends the SYN again after a SYN-ACK passed this point had not taken that one.
  rtt_syn_usec        INTEGER,            -- that last SYN -> the SYN-ACK the client took
  rtt_ack_usec        INTEGER,            -- the SYN-ACK the client took -> the client's ACK
  connect_usec        INTEGER,            -- first SYN -> the SYN-ACK the client took (connect latency at this capture point);
                                          -- in a split handshake, -> the server's first ACK of the SYN after the server's
                                          -- own SYN (it moves the client from SYN-RECEIVED to ESTABLISHED, RFC 9293 §3.10.7.4)
  -- 1: the client acknowledged the SYN-ACK. In a split handshake or simultaneous open (RFC 9293
  -- §3.5: server_syn_count > 0) there need be no SYN-ACK from the server: 1 when both sides' SYNs
  -- were acknowledged, the server's by the client (its SYN-ACK or an ACK, ack = the server's ISN + 1)
  -- and the client's by the server after its own SYN (an ACK before it is dropped by a client in
  -- SYN-SENT, RFC 9293 §3.10.7.3). That is what established means for such a connection.
  handshake_acked     INTEGER NOT NULL,
  syn_mss INTEGER, syn_wscale INTEGER, syn_sack_perm INTEGER, syn_ts INTEGER,
  syn_tsval INTEGER, syn_tsecr INTEGER, syn_nop_run INTEGER, syn_opts TEXT,
  synack_mss INTEGER, synack_wscale INTEGER, synack_sack_perm INTEGER, synack_ts INTEGER,
  synack_tsval INTEGER, synack_tsecr INTEGER, synack_nop_run INTEGER, synack_opts TEXT,
                                          -- *_opts: option kinds in order, e.g. "2,4,8,1,3"; *_nop_run: longest NOP run
  client_ts_later     INTEGER NOT NULL,   -- client sent timestamps after its SYN
  server_ts_later     INTEGER NOT NULL,
  client_pkts INTEGER NOT NULL, client_bytes INTEGER NOT NULL, client_payload INTEGER NOT NULL,
  server_pkts INTEGER NOT NULL, server_bytes INTEGER NOT NULL, server_payload INTEGER NOT NULL,
                                          -- bytes: frame lengths on the wire, as tshark's conv,tcp
  client_retrans      INTEGER NOT NULL,   -- payload segments starting before the highest sequence seen
  server_retrans      INTEGER NOT NULL,
  client_last_tsval   INTEGER,            -- TSval of the client's last segment with timestamps (what TIME_WAIT compares, RFC 6191)
  server_last_tsval   INTEGER,
  client_next         INTEGER,            -- client sequence after its last byte (and FIN)
  server_next         INTEGER,
  first_fin_by        TEXT,               -- client | server: the active closer, who holds TIME_WAIT
  client_fin_frame INTEGER, client_fin_ts_usec INTEGER,
  server_fin_frame INTEGER, server_fin_ts_usec INTEGER,
  first_rst_by        TEXT,               -- client | server
  first_rst_frame     INTEGER,
  first_rst_ts_usec   INTEGER,
  first_rst_state     TEXT,               -- syn-sent | syn-received | established | closing | midstream
  client_rsts INTEGER NOT NULL, server_rsts INTEGER NOT NULL,
  closed_ts_usec      INTEGER,            -- second FIN or the RST that ended it; NULL if still open
  events_dropped      INTEGER NOT NULL,   -- key packets beyond the per-connection event limit
  syn_ttl             INTEGER,            -- IP TTL (IPv6 hop limit) of the first SYN, as captured
  syn_ip_id           INTEGER,            -- IPv4 identification of the first SYN (IPv6: NULL)
  synack_ttl          INTEGER,            -- IP TTL (hop limit) of the first SYN-ACK
  -- SYN retransmits by what this capture saw since the client's previous SYN: an ACK without SYN
  -- answering it (the client reset and retried), a SYN-ACK (lost beyond this point), nothing.
  syn_rtx_after_ack     INTEGER NOT NULL,
  syn_rtx_after_synack  INTEGER NOT NULL,
  syn_rtx_unanswered    INTEGER NOT NULL,
  -- Answers to the SYN that are an ACK without SYN whose ack is not SYN.seq + 1 (the sequence
  -- space of another connection: a TIME_WAIT or half-open one), how many, the first one, and
  -- what the client did after it.
  foreign_ack_count     INTEGER NOT NULL,
  foreign_ack_frame     INTEGER,
  foreign_ack_ts_usec   INTEGER,
  foreign_ack_seq       INTEGER,
  foreign_ack_ack       INTEGER,
  foreign_ack_ts        INTEGER,            -- 1: it carried the timestamp option
  foreign_ack_syn_frame INTEGER,            -- the client SYN it answered (the last one before it)
  foreign_rst_frame     INTEGER,            -- the client's first RST after it
  foreign_rst_seq       INTEGER,
  foreign_retry_frame   INTEGER,            -- the client's first SYN retransmit after it
  foreign_retry_ts_usec INTEGER,
  -- The connection attempt this row belongs to (src/flows/attempts.ts): the id of the attempt's
  -- first row. One attempt is one client SYN sequence (one ISN): its retry from another source
  -- port (a NAT remapped it) and the same SYN seen at other capture points share the id. NULL
  -- for connections whose SYN was not seen (mid-stream).
  attempt_id            INTEGER,
  -- The encapsulation the connection's first packet came in, outermost first ("vxlan vni=4242
  -- 198.18.9.1->198.18.9.2", "mpls label=16 depth=1 / gre key=7 ..."); NULL when plain. The
  -- 4-tuple above is always the innermost one.
  tunnel                TEXT,
  -- The UDP port of that packet's VXLAN: 4789 (IANA, RFC 7348 §5) or 8472 (Linux's vxlan
  -- default dstport), 8472 when any of its VXLAN layers used it; NULL without VXLAN. Wireshark
  -- decodes only 4789 as VXLAN by itself: on 8472 its filters on the inner headers select
  -- nothing unless told (tshark -d udp.port==8472,vxlan).
  tunnel_vxlan_port     INTEGER
);

-- One row per connection attempt (attempt_id above), built after every capture is read. Figures
-- are taken at one capture point, the attempt's "view": the one that saw most SYNs of it (the
-- point nearest the client; SYNs lost on the path are seen there only), ties by the longer
-- connect time, then the lower capture id.
CREATE TABLE IF NOT EXISTS attempts (
  id               INTEGER PRIMARY KEY, -- = connections.attempt_id
  points           INTEGER NOT NULL,    -- capture points that saw it
  view_capture_id  INTEGER NOT NULL,
  rows_at_view     INTEGER NOT NULL,    -- connections rows at the view (more than 1: a NAT moved the retry to another port)
  client_addr      TEXT NOT NULL,       -- at the view
  server_addr      TEXT NOT NULL,
  server_port      INTEGER NOT NULL,
  syn_ts_usec      INTEGER NOT NULL,    -- first SYN at the view
  syns             INTEGER NOT NULL,    -- client SYNs at the view (1 + retransmits)
  syn_retransmits  INTEGER NOT NULL,
  rtx_after_ack    INTEGER NOT NULL,    -- by what preceded them (flows/retransmitCause.ts); a retry from another port follows a stale ACK
  rtx_after_synack INTEGER NOT NULL,
  rtx_unanswered   INTEGER NOT NULL,
  -- established (the client acknowledged the SYN-ACK, or, in a split handshake or simultaneous open,
  -- both sides' SYNs were acknowledged: handshake_acked) | not-completed (a SYN-ACK, never acknowledged)
  -- | refused | foreign-ack | other-answer (the server's own SYN, or an ACK of this SYN, ack = ISN + 1,
  -- and no handshake completed) | unanswered (nothing from the server): at any point, in this order
  outcome          TEXT NOT NULL,
  connect_usec     INTEGER,             -- at the view: first SYN -> the earliest SYN-ACK a client took (connections.connect_usec), of any of its rows
  rtt_syn_usec     INTEGER,             -- at the view
  syn_ts           INTEGER NOT NULL,    -- 1: the first SYN carried the timestamp option at every point that saw it
  synack_ts        INTEGER              -- 1/0: the SYN-ACK carried it at every point that saw one; NULL: no SYN-ACK
);

-- Pairs of captures that saw the same attempts (two capture points), and how they were matched.
CREATE TABLE IF NOT EXISTS capture_pairs (
  a_capture_id  INTEGER NOT NULL,
  b_capture_id  INTEGER NOT NULL,
  matched       INTEGER NOT NULL,  -- attempts seen at both
  matched_by    TEXT NOT NULL,     -- isn: client ISN and server port; tuple: 4-tuple in order (a box rewrote ISNs)
  PRIMARY KEY (a_capture_id, b_capture_id)
);

-- Key packets of connections whose handshake or close was not plain (more than one SYN or
-- SYN-ACK, an answer other than a SYN-ACK, any RST, a split handshake). A plain connection's
-- key frames (SYN, SYN-ACK, each side's first FIN) are in its own columns. Keyed by connection,
-- frame and kind (one packet can be two events: a FIN with RST), the key holding what ev_conn
-- held as an index before version 9: on the bench store 198 bytes per connection, 244 with the index.
CREATE TABLE IF NOT EXISTS events (
  conn_id     INTEGER NOT NULL REFERENCES connections(id),
  capture_id  INTEGER NOT NULL,
  frame       INTEGER NOT NULL,
  ts_usec     INTEGER NOT NULL,
  dir         TEXT NOT NULL,   -- c2s | s2c
  kind        TEXT NOT NULL,   -- syn | syn-rtx | synack | synack-rtx | server-syn | answer-ack | handshake-ack | fin | rst
  seq         INTEGER NOT NULL,
  ack         INTEGER NOT NULL,
  flags       INTEGER NOT NULL,
  ts          INTEGER NOT NULL, -- timestamp option present
  tsval       INTEGER,
  tsecr       INTEGER,
  nop_run     INTEGER NOT NULL,
  win         INTEGER NOT NULL,
  PRIMARY KEY (conn_id, frame, kind)
) WITHOUT ROWID;

-- Per-connection anomalies (src/flows/anomalies.ts): one row per kind per connection, at the
-- first packet that showed it; count says how many did. Names follow Wireshark's expert info and
-- Zeek's weird.log where those exist. Columns by kind (NULL where not listed):
--   synack-not-captured           frame: the first packet proving the client had a SYN-ACK the capture
--                                 lacks (the client's ACK: ack = server ISN + 1; or the server's ACK of
--                                 the client's data); ref_frame: the SYN; gap_usec: SYN -> it
--   previous-segment-not-captured Wireshark tcp.analysis.lost_segment. dir: the sender; frame/seq/ack: the
--                                 first segment after a gap; count: such segments; bytes: sum of the gaps
--   ack-of-unseen-data            Wireshark tcp.analysis.ack_lost_segment. dir: the acking side; frame/seq/ack:
--                                 the first ACK beyond the other side's highest sequence seen; bytes: by how
--                                 much; count: such ACKs
--   syn-with-nonzero-ack          Wireshark tcp.ack.nonzero. frame/seq/ack: the SYN; count: such SYNs
--   syn-with-data                 Zeek SYN_with_data. seq: ISN; bytes: payload; value: TFO option kind in it
--                                 (34, 254 experimental, 0 none); ack/ref_frame: the first SYN-ACK's ack and
--                                 frame; detail: data-acked | syn-only-acked | other-ack | no-synack
--   syn-isn-change                Zeek SYN_seq_jump. frame/seq/ack: the SYN with a new ISN, less than 1 s after
--                                 an unanswered attempt's SYN on the tuple; value: that attempt's ISN;
--                                 ref_frame: its last SYN; gap_usec; count: ISNs in the run so far
--   simultaneous-open             Zeek simultaneous_open. frame/seq: the responder's SYN without ACK;
--                                 ref_frame: the client's SYN
--   split-handshake               Zeek connection_originator_SYN_ack. frame: the client's SYN-ACK (the
--                                 responder never sent one); count: such SYN-ACKs; ref_frame: the responder's SYN
--   missing-syn                   frame/seq/ack: the SYN-ACK of a connection whose SYN was not captured
--   synack-resent-before-ack      frame/seq/ack: the first SYN-ACK resent before the client's ACK was captured;
--                                 count; ref_frame: the SYN retransmit it answered, or the previous SYN-ACK;
--                                 detail: after-syn-retransmit | server-timer; gap_usec: since ref_frame
--   synack-resent-after-ack       frame/seq/ack: the first SYN-ACK resent after the client's ACK of it was
--                                 captured; count; ref_frame: that ACK; gap_usec
--   synack-isn-change             frame/seq/ack: a later SYN-ACK with another ISN; value: the first SYN-ACK's
--                                 ISN; ref_frame: the first SYN-ACK; count
--   rst-from-syn-sender           frame/seq/ack: the client's RST before it acknowledged a SYN-ACK (not the
--                                 RST to a stale ACK); detail: after-synack | after-nothing; ref_frame
--   rst-then-synack               frame/ack: the responder's RST that came before its SYN-ACK; ref_frame: the
--                                 SYN-ACK; detail: acceptable | not-acceptable (RFC 9293 §3.10.7.3: in
--                                 SYN-SENT an RST counts only if it acknowledges the SYN)
--   one-sided-capture             Zeek possible_split_routing. dir: the only direction captured; frame: the
--                                 first packet; count: packets; detail: client-only | server-only
CREATE TABLE IF NOT EXISTS anomalies (
  conn_id     INTEGER NOT NULL REFERENCES connections(id),
  capture_id  INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  frame       INTEGER NOT NULL,
  ts_usec     INTEGER NOT NULL,
  dir         TEXT,            -- c2s | s2c
  count       INTEGER NOT NULL,
  seq         INTEGER,
  ack         INTEGER,
  bytes       INTEGER,
  value       INTEGER,
  ref_frame   INTEGER,
  gap_usec    INTEGER,
  detail      TEXT
);

-- Filled by the detectors (src/detectors); cleared and rewritten on each run.
CREATE TABLE IF NOT EXISTS findings (
  id          TEXT PRIMARY KEY,  -- stable: detector/capture id/frame or key; a second finding with the same id is an error
  detector    TEXT NOT NULL,
  severity    TEXT NOT NULL,     -- info | warning | error
  capture_id  INTEGER,
  conn_id     INTEGER,
  ts_usec     INTEGER,
  -- stale-ack and challenge-ack: NULL in both. Those findings (one per connection whose SYN drew
  -- an ACK from another sequence space, connections.foreign_*) are rendered from the connection's
  -- row, its previous incarnation's and its events when read (tcpdiag findings --db FILE).
  summary     TEXT,              -- one line
  evidence    TEXT,              -- JSON: frames, seq/ack, options, figures
  kind        TEXT,              -- stale-ack and challenge-ack: evidence.relation (time-wait | old-connection | not-captured | half-open); NULL for other detectors
  reason      TEXT               -- stale-ack and challenge-ack: evidence.rejectReason; NULL for other detectors
);

-- Run settings, written at ingest and read back by 'analyze --db' (time_wait_usec, port_lo, port_hi),
-- and findings_complete: the number of findings, written when a detector run has written them all.
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- The process writing this store, one row while it runs (src/flows/writerLock.ts): a second
-- tcpdiag on the same file refuses to write while that process lives. Taken and released in
-- BEGIN IMMEDIATE transactions, so two processes cannot both take it; a row whose process is
-- gone (killed) is taken over.
CREATE TABLE IF NOT EXISTS writer_lock (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  pid        INTEGER NOT NULL,
  started    TEXT,                      -- process start time (/proc/PID/stat field 22), tells a reused pid
  host       TEXT NOT NULL,             -- os.hostname(): a pid means nothing on another host
  since_usec INTEGER NOT NULL           -- when it was taken
);
`;

/**
 * Findings by detector (the report's queries); runDetectors rebuilds both after writing.
 * find_detector gives a detector's findings in the order they were written (rowid), for the
 * report's first-N reads. find_cover holds every typed column the report counts, sorts or
 * groups findings by, so those reads (counts per detector and severity, the report order, the
 * stale ACKs per attempt, the timeline) never touch a finding's row, whose summary and evidence
 * are ~1.5 KB for a stale ACK: on the bench store the rows are 92 MB, the index 2 MB.
 */
export const FIND_DETECTOR_INDEX = `CREATE INDEX IF NOT EXISTS find_detector ON findings (detector);
CREATE INDEX IF NOT EXISTS find_cover ON findings (detector, severity, kind, reason, capture_id, conn_id, ts_usec);`;

/**
 * Indexes for the queries of detectors, reports and `tcpdiag flows` (tuple, server endpoint,
 * capture in time order, ISN, client -> server path in time order with the source port).
 * Created after a bulk load: building them once is several times faster than maintaining them
 * row by row. conn_tuple is read only by `flows --tuple` (and by users' own lookups): 39 bytes
 * per connection on the bench store, and without it that lookup scans conn_time, 115 ms instead
 * of 5 on the bench store's 100 000 rows.
 */

export const INDEX_SQL = `
CREATE INDEX IF NOT EXISTS conn_tuple ON connections (client_addr, client_port, server_addr, server_port);
CREATE INDEX IF NOT EXISTS conn_server ON connections (server_addr, server_port);
CREATE INDEX IF NOT EXISTS conn_time ON connections (capture_id, first_ts_usec, id);
CREATE INDEX IF NOT EXISTS conn_isn ON connections (client_isn, server_port, syn_ts_usec);
CREATE INDEX IF NOT EXISTS conn_path ON connections (capture_id, client_addr, server_addr, server_port, syn_ts_usec, client_port);
CREATE INDEX IF NOT EXISTS conn_attempt ON connections (attempt_id);
CREATE INDEX IF NOT EXISTS conn_prev ON connections (prev_id, first_frame);
CREATE INDEX IF NOT EXISTS an_kind ON anomalies (kind, conn_id);
CREATE INDEX IF NOT EXISTS an_conn ON anomalies (conn_id);
${FIND_DETECTOR_INDEX}
`;
