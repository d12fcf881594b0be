// A producer built on the official Java client (kafka-clients), for the tests that check that
// keyflow consumes what real producers write (test/producers.test.ts). Compiled at test time
// by compose/local/producers.ts.
//
//   java -cp <kafka classpath>:<dir> KeyflowProducer BOOTSTRAP TOPIC < script
//
// The script is one command per line:
//   #producer COMPRESSION [TRANSACTIONAL_ID]   close the current producer, open an idempotent
//                                              one (acks=all) with this compression.type,
//                                              transactional when an id is given
//   #begin | #commit | #abort                  transactions (abort flushes first, so the
//                                              aborted records really are in the log)
//   KEY|VALUE                                  one record (an empty KEY: no key)
// Every send is awaited at #producer, #commit, #abort and the end of input.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

public final class KeyflowProducer {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    KafkaProducer<String, String> producer = null;
    List<Future<RecordMetadata>> inFlight = new ArrayList<>();
    int sent = 0;
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.isEmpty()) continue;
      if (line.startsWith("#producer ")) {
        if (producer != null) {
          producer.flush();
          awaitAll(inFlight);
          producer.close();
        }
        String[] parts = line.split(" ");
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("compression.type", parts[1]);
        p.put("enable.idempotence", "true");
        p.put("acks", "all");
        p.put("linger.ms", "5");
        if (parts.length > 2) p.put("transactional.id", parts[2]);
        producer = new KafkaProducer<>(p);
        if (parts.length > 2) producer.initTransactions();
      } else if (line.equals("#begin")) {
        producer.beginTransaction();
      } else if (line.equals("#commit")) {
        producer.commitTransaction();
        awaitAll(inFlight);
      } else if (line.equals("#abort")) {
        producer.flush();
        producer.abortTransaction();
        inFlight.clear();
      } else {
        int bar = line.indexOf('|');
        String key = bar <= 0 ? null : line.substring(0, bar);
        inFlight.add(producer.send(new ProducerRecord<>(topic, key, line.substring(bar + 1))));
        sent++;
      }
    }
    if (producer != null) {
      producer.flush();
      awaitAll(inFlight);
      producer.close();
    }
    System.out.println("sent " + sent);
  }

  /** Throws the first failed send's error: nothing is lost silently. */
  private static void awaitAll(List<Future<RecordMetadata>> futures) throws Exception {
    for (Future<RecordMetadata> f : futures) f.get();
    futures.clear();
  }
}
