/*
 * Reference side of the HdrHistogram interoperability and conformance tests: Java
 * HdrHistogram (org.HdrHistogram, libhdrhistogram-java) reads and writes interval logs and
 * prints the statistics `slawatch hdr --json` prints, with the same keys, so a driver can
 * compare the two. Nothing here uses slawatch code.
 *
 * Usage:
 *   java -cp CLASSES:JAR Interop stats LOG [TAG]
 *       Merge every interval of LOG (only those tagged TAG when given) and print its stats.
 *   java -cp CLASSES:JAR Interop info LOG
 *       Print the intervals of LOG: tag, layout (lowest, highest, digits), count.
 *   java -cp CLASSES:JAR Interop values VALUES
 *       Record VALUES (one integer per line, microseconds) into the latency histogram
 *       (1 .. 3,600,000,000, 3 digits) and print its stats.
 *   java -cp CLASSES:JAR Interop write VALUES LOG
 *       As `values`, and also write LOG: format version, StartTime, legend, one interval.
 *   java -cp CLASSES:JAR Interop write-intervals SPEC LOG
 *       Write a multi-interval log. SPEC holds blocks; a block starts with a line
 *       `@ TAG START_MS END_MS [LOWEST HIGHEST DIGITS [SHIFT]]` (TAG `-` for untagged; the
 *       layout defaults to the latency histogram; SHIFT > 0 applies shiftValuesLeft(SHIFT)
 *       after recording, which makes Java write a non-zero normalizing index offset) and is
 *       followed by one value per line: `V` (must be <= the highest trackable value), `V*N`
 *       (recordValueWithCount) or `V!` (recordValue without that check: Java accepts values up
 *       to the end of its counts array). Prints {"intervals":N}.
 *
 * Stats JSON keys: total_count, overflow_count, min, max, mean, p50, p90, p95, p99, p99.9;
 * min/max/mean/percentiles are null when the histogram is empty.
 *
 * Merging is what HistogramLogProcessor does: a copy of the first selected interval (its
 * lowest discernible value and digits), set to auto-resize, to which the others are add()ed.
 * In `values`, `write` and plain `V` spec lines a value above the histogram's highest
 * trackable value is an overflow (slawatch's convention; Java itself would accept anything up
 * to the end of its counts array): counted, never recorded.
 *
 * `stats` and `info` drop blank lines before HistogramLogReader sees the log (2.1.11 throws
 * NoSuchElementException at a trailing blank line).
 *
 * Exit status: 0 on success, 1 on bad input or a Java exception, 2 on bad usage.
 */

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.HdrHistogram.AbstractHistogram;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.HdrHistogram.HistogramLogWriter;

public final class Interop {
    static final long LATENCY_LOWEST = 1L;
    static final long LATENCY_HIGHEST = 3600000000L;
    static final int LATENCY_DIGITS = 3;

    /* Fixed StartTime of written logs (ms since epoch), so outputs are reproducible. */
    static final long START_TIME_MS = 1700000000000L;

    /*
     * Everything is in this one class, with no nested classes, so javac writes exactly one
     * file, Interop.class, which the build declares as its output.
     */

    private static void usage(String msg) {
        System.err.println("Interop: " + msg);
        System.err.println("usage: Interop stats LOG [TAG] | info LOG | values VALUES"
                + " | write VALUES LOG | write-intervals SPEC LOG");
        System.exit(2);
    }

    /* Bad input: a message and exit status 1, without a stack trace. */
    private static IllegalStateException bad(String msg) {
        return new IllegalStateException(msg);
    }

    /* Record v into h unless it is out of h's range; false (nothing recorded) when it is. */
    private static boolean record(Histogram h, long v) {
        if (v < 0 || v > h.getHighestTrackableValue()) {
            return false;
        }
        h.recordValue(v);
        return true;
    }

    public static void main(String[] args) {
        int rc;
        try {
            rc = run(args);
        } catch (IllegalStateException e) {
            System.err.println("Interop: " + e.getMessage());
            rc = 1;
        } catch (Exception e) {
            System.err.println("Interop: " + e);
            e.printStackTrace(System.err);
            rc = 1;
        }
        System.out.flush();
        System.exit(rc);
    }

    private static int run(String[] args) throws Exception {
        if (args.length == 0) {
            usage("no mode given");
        }
        String mode = args[0];
        switch (mode) {
            case "stats":
                need(args, 2, 3);
                System.out.println(statsOfLog(args[1], args.length == 3 ? args[2] : null));
                return 0;
            case "info":
                need(args, 2, 2);
                System.out.println(info(args[1]));
                return 0;
            case "values": {
                need(args, 2, 2);
                Histogram h = latencyHistogram();
                long overflow = recordValues(h, readValues(args[1]));
                System.out.println(statsJson(h, overflow));
                return 0;
            }
            case "write": {
                need(args, 3, 3);
                Histogram h = latencyHistogram();
                long overflow = recordValues(h, readValues(args[1]));
                writeOne(h, args[2]);
                System.out.println(statsJson(h, overflow));
                return 0;
            }
            case "write-intervals":
                need(args, 3, 3);
                System.out.println(writeIntervals(args[1], args[2]));
                return 0;
            default:
                usage("unknown mode '" + mode + "'");
                return 2;
        }
    }

    private static void need(String[] args, int min, int max) {
        if (args.length < min || args.length > max) {
            usage("wrong number of arguments for " + args[0]);
        }
    }

    /* ---- reading logs ---- */

    private static List<AbstractHistogram> readLog(String path) throws Exception {
        List<AbstractHistogram> out = new ArrayList<>();
        HistogramLogReader reader = new HistogramLogReader(withoutBlankLines(path));
        try {
            EncodableHistogram e;
            while ((e = reader.nextIntervalHistogram()) != null) {
                if (!(e instanceof AbstractHistogram)) {
                    throw bad(path + ": interval " + (out.size() + 1) + " is a "
                            + e.getClass().getSimpleName() + ", not an integer histogram");
                }
                out.add((AbstractHistogram) e);
            }
        } finally {
            reader.close();
        }
        return out;
    }

    /*
     * The log's bytes minus blank lines. HdrHistogram 2.1.11's HistogramLogScanner throws
     * NoSuchElementException at a blank line at the end of a file (hiccup.140623.1028.10646.hlog
     * ends with one); the format treats blank lines as nothing, so dropping them changes no
     * interval.
     */
    private static InputStream withoutBlankLines(String path) throws IOException {
        byte[] raw = Files.readAllBytes(Paths.get(path));
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        StringBuilder sb = new StringBuilder(text.length());
        for (String line : text.split("\r?\n", -1)) {
            if (!line.trim().isEmpty()) {
                sb.append(line).append('\n');
            }
        }
        return new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    private static boolean tagMatches(AbstractHistogram h, String tag) {
        return tag == null || tag.equals(h.getTag());
    }

    /*
     * Merge the selected intervals into a copy of the first (its lowest discernible value and
     * digits), each later one added with AbstractHistogram.add(). The copy auto-resizes, so
     * intervals with a larger highest trackable value (ycsb.logV1.hlog's writer auto-resized)
     * lose nothing. An empty selection gives an empty histogram.
     */
    static String statsOfLog(String path, String tag) throws Exception {
        AbstractHistogram merged = null;
        for (AbstractHistogram h : readLog(path)) {
            if (!tagMatches(h, tag)) {
                continue;
            }
            if (merged == null) {
                merged = h.copy();
                merged.setAutoResize(true);
            } else {
                merged.add(h);
            }
        }
        if (merged == null) {
            merged = latencyHistogram();
        }
        return statsJson(merged, 0);
    }

    static String info(String path) throws Exception {
        List<AbstractHistogram> hs = readLog(path);
        Set<String> tags = new LinkedHashSet<>();
        StringBuilder sb = new StringBuilder();
        sb.append("{\"intervals\":[");
        for (int i = 0; i < hs.size(); i++) {
            AbstractHistogram h = hs.get(i);
            tags.add(h.getTag());
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"tag\":").append(jsonString(h.getTag()))
                    .append(",\"class\":").append(jsonString(h.getClass().getSimpleName()))
                    .append(",\"lowest\":").append(h.getLowestDiscernibleValue())
                    .append(",\"highest\":").append(h.getHighestTrackableValue())
                    .append(",\"digits\":").append(h.getNumberOfSignificantValueDigits())
                    .append(",\"total_count\":").append(h.getTotalCount())
                    .append(",\"max\":").append(h.getMaxValue())
                    .append(",\"start_ms\":").append(h.getStartTimeStamp())
                    .append(",\"end_ms\":").append(h.getEndTimeStamp())
                    .append('}');
        }
        sb.append("],\"tags\":[");
        boolean first = true;
        for (String t : tags) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append(jsonString(t));
        }
        sb.append("]}");
        return sb.toString();
    }

    /* ---- values and writing ---- */

    private static List<Long> readValues(String path) throws Exception {
        List<Long> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(new FileInputStream(path), StandardCharsets.US_ASCII))) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                String s = line.trim();
                if (s.isEmpty()) {
                    continue;
                }
                try {
                    out.add(Long.parseLong(s));
                } catch (NumberFormatException e) {
                    throw bad(path + ":" + n + ": not an integer: '" + s + "'");
                }
            }
        }
        return out;
    }

    private static Histogram latencyHistogram() {
        return new Histogram(LATENCY_LOWEST, LATENCY_HIGHEST, LATENCY_DIGITS);
    }

    /* Record values into h; returns how many overflowed. */
    private static long recordValues(Histogram h, List<Long> values) {
        long overflow = 0;
        for (long v : values) {
            if (!record(h, v)) {
                overflow++;
            }
        }
        return overflow;
    }

    private static HistogramLogWriter openWriter(String path, PrintStream[] ps) throws IOException {
        ps[0] = new PrintStream(new FileOutputStream(path), false, "US-ASCII");
        HistogramLogWriter w = new HistogramLogWriter(ps[0]);
        w.outputComment("[Written by slawatch tests/interop/Interop.java]");
        w.outputLogFormatVersion();
        w.outputStartTime(START_TIME_MS);
        w.setBaseTime(START_TIME_MS);
        w.outputBaseTime(START_TIME_MS);
        w.outputLegend();
        return w;
    }

    private static void closeWriter(PrintStream ps, String path) {
        ps.flush();
        boolean err = ps.checkError();
        ps.close();
        if (err) {
            throw bad(path + ": write failed");
        }
    }

    private static void writeOne(Histogram h, String path) throws Exception {
        PrintStream[] ps = new PrintStream[1];
        HistogramLogWriter w = openWriter(path, ps);
        h.setStartTimeStamp(START_TIME_MS);
        h.setEndTimeStamp(START_TIME_MS + 1000);
        w.outputIntervalHistogram(h);
        closeWriter(ps[0], path);
    }

    private static String writeIntervals(String specPath, String logPath) throws Exception {
        List<Histogram> intervals = new ArrayList<>();
        List<Integer> shifts = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                new FileInputStream(specPath), StandardCharsets.US_ASCII))) {
            String line;
            int n = 0;
            Histogram cur = null;
            while ((line = r.readLine()) != null) {
                n++;
                String s = line.trim();
                if (s.isEmpty()) {
                    continue;
                }
                String where = specPath + ":" + n + ": ";
                try {
                    if (s.startsWith("@")) {
                        String[] f = s.substring(1).trim().split("\\s+");
                        if (f.length != 3 && f.length != 6 && f.length != 7) {
                            throw bad(where + "expected '@ TAG START_MS END_MS"
                                    + " [LOWEST HIGHEST DIGITS [SHIFT]]'");
                        }
                        cur = f.length >= 6
                                ? new Histogram(Long.parseLong(f[3]), Long.parseLong(f[4]),
                                        Integer.parseInt(f[5]))
                                : latencyHistogram();
                        cur.setTag(f[0].equals("-") ? null : f[0]);
                        cur.setStartTimeStamp(Long.parseLong(f[1]));
                        cur.setEndTimeStamp(Long.parseLong(f[2]));
                        intervals.add(cur);
                        shifts.add(f.length == 7 ? Integer.parseInt(f[6]) : 0);
                        continue;
                    }
                    if (cur == null) {
                        throw bad(where + "value before the first '@' line");
                    }
                    if (s.endsWith("!")) {
                        cur.recordValue(Long.parseLong(s.substring(0, s.length() - 1)));
                    } else if (s.indexOf('*') >= 0) {
                        int star = s.indexOf('*');
                        long v = Long.parseLong(s.substring(0, star));
                        if (v > cur.getHighestTrackableValue()) {
                            throw bad(where + v + " is above this interval's highest value");
                        }
                        cur.recordValueWithCount(v, Long.parseLong(s.substring(star + 1)));
                    } else if (!record(cur, Long.parseLong(s))) {
                        throw bad(where + s + " does not fit this interval's histogram");
                    }
                } catch (NumberFormatException e) {
                    throw bad(where + "not a number: '" + s + "'");
                }
            }
        }
        PrintStream[] ps = new PrintStream[1];
        HistogramLogWriter w = openWriter(logPath, ps);
        for (int i = 0; i < intervals.size(); i++) {
            Histogram iv = intervals.get(i);
            if (shifts.get(i) > 0) {
                iv.shiftValuesLeft(shifts.get(i));
            }
            w.outputIntervalHistogram(iv);
        }
        closeWriter(ps[0], logPath);
        return "{\"intervals\":" + intervals.size() + "}";
    }

    /* ---- output ---- */

    static final double[] PERCENTILES = {50.0, 90.0, 95.0, 99.0, 99.9};
    static final String[] PERCENTILE_KEYS = {"p50", "p90", "p95", "p99", "p99.9"};

    static String statsJson(AbstractHistogram h, long overflow) {
        long total = h.getTotalCount();
        boolean empty = total == 0;
        StringBuilder sb = new StringBuilder();
        sb.append("{\"total_count\":").append(total);
        sb.append(",\"overflow_count\":").append(overflow);
        sb.append(",\"min\":").append(empty ? "null" : Long.toString(h.getMinValue()));
        sb.append(",\"max\":").append(empty ? "null" : Long.toString(h.getMaxValue()));
        sb.append(",\"mean\":").append(empty ? "null" : jsonDouble(h.getMean()));
        for (int i = 0; i < PERCENTILES.length; i++) {
            sb.append(",\"").append(PERCENTILE_KEYS[i]).append("\":")
                    .append(empty ? "null" : Long.toString(h.getValueAtPercentile(PERCENTILES[i])));
        }
        sb.append('}');
        return sb.toString();
    }

    private static String jsonDouble(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return "null";
        }
        /* Shortest round-trip form; the exponent form (1.5E10) is valid JSON. */
        return Double.toString(d);
    }

    private static String jsonString(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
