package dev.exactly.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Contender "kafka-streams" of pnpm bench: Kafka Streams with processing.guarantee=exactly_once_v2, the
 * reference implementation of exactly-once on Kafka, on the workload of the TypeScript contenders
 * (BENCH_WORKLOAD): 'fan-out' parses each JSON record and emits it to LEFT and {"id": id} to RIGHT; 'count'
 * is groupByKey().count() into a state store (RocksDB, with its changelog), each new count emitted to LEFT.
 * Brokers, topics and group come from the BENCH_* environment variables that pnpm bench sets. Runs until
 * SIGTERM.
 */
public final class StreamsContender {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    StreamsBuilder builder = new StreamsBuilder();
    boolean count = "count".equals(envOr("BENCH_WORKLOAD", "fan-out"));
    if (count) countPerKey(builder);
    else fanOut(builder);

    Path stateDir = Files.createTempDirectory("bench-kafka-streams-");
    KafkaStreams streams = new KafkaStreams(builder.build(), config(stateDir));
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setStateListener(
        (now, before) -> {
          if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) stopped.countDown();
        });
    streams.setUncaughtExceptionHandler(
        error -> {
          error.printStackTrace();
          return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    // SIGTERM from pnpm bench: close cleanly (the open transaction commits), then remove the state directory.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  streams.close(Duration.ofSeconds(10));
                  deleteTree(stateDir);
                }));
    streams.start();
    stopped.await();
    if (streams.state() == KafkaStreams.State.ERROR) {
      System.err.println("kafka-streams contender: the streams client failed");
      System.exit(1);
    }
  }

  private static void fanOut(StreamsBuilder builder) {
    Produced<String, byte[]> produced = Produced.with(Serdes.String(), Serdes.ByteArray());
    // Parsed once; both sinks hang off the same node, as the TypeScript contenders use one parsed value twice.
    KStream<String, JsonNode> parsed =
        builder.stream(env("BENCH_INPUT"), Consumed.with(Serdes.String(), Serdes.ByteArray()))
            .mapValues(StreamsContender::parse);
    parsed.mapValues(StreamsContender::write).to(env("BENCH_LEFT"), produced);
    parsed.mapValues(value -> write(JSON.createObjectNode().set("id", value.get("id"))))
        .to(env("BENCH_RIGHT"), produced);
  }

  private static void countPerKey(StreamsBuilder builder) {
    builder.stream(env("BENCH_INPUT"), Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
        .count(Materialized.as("counts"))
        .toStream()
        .mapValues(String::valueOf)
        .to(env("BENCH_LEFT"), Produced.with(Serdes.String(), Serdes.String()));
  }

  private static Properties config(Path stateDir) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, env("BENCH_GROUP"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, env("BENCH_BROKERS"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    // Kafka Streams' default of one stream thread unless told otherwise; see README.md.
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(envOr("BENCH_STREAM_THREADS", "1")));
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    // Every count goes out, as Exactly's does: with its record cache on, Kafka Streams would emit only the last
    // count of each key per commit interval, and LEFT would not hold one output per input to time.
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    return props;
  }

  private static JsonNode parse(byte[] value) {
    try {
      return JSON.readTree(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] write(JsonNode value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String env(String name) {
    String value = System.getenv(name);
    if (value == null || value.isEmpty()) throw new IllegalStateException(name + " is not set (pnpm bench sets it)");
    return value;
  }

  private static String envOr(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException ignored) {
      // A leftover empty directory in the system's temp dir is harmless.
    }
  }
}
