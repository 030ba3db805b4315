import java.nio.file.Path;
import java.time.Duration;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

/**
 * A real Neo4j Community server (embedded DBMS with its Bolt connector) for prwright's tests.
 * Arguments: BOLT_PORT HOME_DIR [WATCH_PID]. Prints "READY bolt://127.0.0.1:PORT" once it accepts
 * connections, and shuts down when WATCH_PID (the test runner) is gone, so no server outlives its run.
 */
public class Neo4jLauncher {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    Path home = Path.of(args[1]);
    long watch = args.length > 2 ? Long.parseLong(args[2]) : -1;
    var dbms = new DatabaseManagementServiceBuilder(home)
        .setConfig(BoltConnector.enabled, true)
        .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
        .setConfig(GraphDatabaseSettings.auth_enabled, false)
        .setConfig(GraphDatabaseSettings.pagecache_memory, 32L * 1024 * 1024)
        .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofSeconds(60))
        .build();
    Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown));
    System.out.println("READY bolt://127.0.0.1:" + port);
    System.out.flush();
    while (watch < 0 || ProcessHandle.of(watch).map(ProcessHandle::isAlive).orElse(false)) {
      Thread.sleep(1000);
    }
    System.exit(0);
  }
}
