package dev.lowbit.validate.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/** BPE as HF tokenizers applies it to one word: lowest merge rank first, ties to the leftmost pair. */
final class Bpe {
    private final Map<String, Integer> vocab;
    private final Map<Long, long[]> merges; // (left id, right id) -> {rank, new id}
    private final boolean byteFallback;
    private final Integer unk;

    Bpe(Map<String, Integer> vocab, List<String[]> mergeList, boolean byteFallback, String unkToken) {
        this.vocab = vocab;
        this.byteFallback = byteFallback;
        this.unk = unkToken == null ? null : vocab.get(unkToken);
        this.merges = new HashMap<>();
        for (int rank = 0; rank < mergeList.size(); rank++) {
            String[] m = mergeList.get(rank);
            Integer a = vocab.get(m[0]), b = vocab.get(m[1]), c = vocab.get(m[0] + m[1]);
            if (a == null || b == null || c == null) throw new IllegalArgumentException("merge '" + m[0] + " " + m[1] + "' uses a token missing from the vocab");
            merges.putIfAbsent(key(a, b), new long[] {rank, c});
        }
    }

    private static long key(int a, int b) {
        return (long) a << 32 | (b & 0xffffffffL);
    }

    private record Merge(int pos, long rank, int newId) implements Comparable<Merge> {
        public int compareTo(Merge o) {
            return rank != o.rank ? Long.compare(rank, o.rank) : Integer.compare(pos, o.pos);
        }
    }

    /** Appends the ids of one word (a sequence of code points) to out. */
    void encode(String word, List<Integer> out) {
        List<Integer> ids = new ArrayList<>();
        word.codePoints().forEach(cp -> initial(cp, ids));
        int n = ids.size();
        int[] c = new int[n], prev = new int[n], next = new int[n];
        boolean[] gone = new boolean[n];
        for (int i = 0; i < n; i++) {
            c[i] = ids.get(i);
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Merge> queue = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) offer(queue, i, c[i], c[i + 1]);
        while (!queue.isEmpty()) {
            Merge top = queue.poll();
            int p = top.pos;
            if (gone[p] || next[p] < 0) continue;
            int r = next[p];
            long[] m = merges.get(key(c[p], c[r]));
            if (m == null || m[1] != top.newId) continue;
            c[p] = top.newId;
            gone[r] = true;
            next[p] = next[r];
            if (next[r] >= 0) prev[next[r]] = p;
            if (prev[p] >= 0) offer(queue, prev[p], c[prev[p]], c[p]);
            if (next[p] >= 0) offer(queue, p, c[p], c[next[p]]);
        }
        for (int i = 0; i >= 0 && n > 0; i = next[i]) out.add(c[i]);
    }

    private void offer(PriorityQueue<Merge> q, int pos, int a, int b) {
        long[] m = merges.get(key(a, b));
        if (m != null) q.add(new Merge(pos, m[0], (int) m[1]));
    }

    private void initial(int cp, List<Integer> ids) {
        Integer id = vocab.get(Character.toString(cp));
        if (id != null) {
            ids.add(id);
            return;
        }
        if (byteFallback) {
            byte[] bytes = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
            List<Integer> pieces = new ArrayList<>();
            for (byte b : bytes) {
                Integer bid = vocab.get(String.format("<0x%02X>", b & 0xff));
                if (bid == null) break;
                pieces.add(bid);
            }
            if (pieces.size() == bytes.length) {
                ids.addAll(pieces);
                return;
            }
        }
        if (unk != null) ids.add(unk);
    }
}
