package dev.nesykg.neo4j;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * Embedded Neo4j 5.26 community server for the nesykg test-suite.
 *
 * <pre>
 *   java -Xmx768m -jar launcher.jar --port 7687 --data DIR [--password PW] [--host 127.0.0.1]
 *        [--pagecache 128m] [--config FILE]
 * </pre>
 *
 * {@code --config FILE} reads further settings from a file in {@code neo4j.conf} syntax
 * (official setting names, e.g. {@code db.tx_state.memory_allocation=OFF_HEAP}); they
 * are applied over the launcher's own.
 *
 * The password may instead be given via the environment variable NESYKG_NEO4J_PASSWORD
 * (preferred: keeps it out of the process list). Prints
 * {@code NEO4J READY bolt://HOST:PORT} on stdout once Bolt accepts authenticated
 * connections; shuts down cleanly on SIGTERM/SIGINT.
 */
public final class Launcher {

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 7687;
        Path data = null;
        String password = System.getenv("NESYKG_NEO4J_PASSWORD");
        String pageCache = "128m";
        Path config = null;

        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--port" -> port = Integer.parseInt(need(args, ++i, a));
                case "--host" -> host = need(args, ++i, a);
                case "--data" -> data = Path.of(need(args, ++i, a)).toAbsolutePath();
                case "--password" -> password = need(args, ++i, a);
                case "--pagecache" -> pageCache = need(args, ++i, a);
                case "--config" -> config = Path.of(need(args, ++i, a)).toAbsolutePath();
                case "-h", "--help" -> {
                    System.out.println("usage: Launcher --port N --data DIR [--password PW] [--host H] [--pagecache 128m] [--config FILE]");
                    return;
                }
                default -> die("unknown argument: " + a);
            }
        }
        if (data == null) {
            die("--data DIR is required");
        }
        if (config != null && !java.nio.file.Files.isRegularFile(config)) {
            die("--config: no such file: " + config);
        }
        if (password == null || password.isEmpty()) {
            die("a password is required (--password PW or env NESYKG_NEO4J_PASSWORD)");
        }

        long t0 = System.nanoTime();
        DatabaseManagementService dbms = null;
        try {
            dbms = build(data, host, port, pageCache, config);
        } catch (Throwable t) {
            t.printStackTrace();
            System.err.println("neo4j launcher: could not start Neo4j");
            System.exit(1);
        }
        final DatabaseManagementService service = dbms;

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("NEO4J STOPPING");
            System.out.flush();
            try {
                service.shutdown();
            } catch (Throwable t) {
                t.printStackTrace();
            } finally {
                System.out.println("NEO4J STOPPED");
                System.out.flush();
                stopped.countDown();
            }
        }, "neo4j-shutdown"));

        try {
            setPassword(service, password);
            // Make sure the default database is up before announcing readiness.
            GraphDatabaseService db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            db.executeTransactionally("RETURN 1");
        } catch (Throwable t) {
            t.printStackTrace();
            System.err.println("neo4j launcher: start-up failed; shutting down");
            System.exit(1); // runs the shutdown hook
        }

        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("NEO4J READY bolt://" + host + ":" + port + " (started in " + ms + " ms)");
        System.out.flush();
        stopped.await();
    }

    private static DatabaseManagementService build(Path data, String host, int port, String pageCache, Path config) {
        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(data)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.default_listen_address, new SocketAddress(host))
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                // Tests deliberately try wrong passwords; never lock the neo4j user out.
                .setConfig(GraphDatabaseSettings.auth_max_failed_attempts, 0)
                .setConfig(GraphDatabaseSettings.auth_minimum_password_length, 1)
                .setConfig(GraphDatabaseSettings.pagecache_memory, parseBytes(pageCache))
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(32))
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ZERO)
                // Faster shutdown (defaults wait several seconds for Bolt connections/threads).
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1));
        if (config != null) {
            builder.loadPropertiesFromFile(config);
        }
        return builder.build();
    }

    /** Set neo4j's password (idempotent across restarts) and clear "change required". */
    private static void setPassword(DatabaseManagementService dbms, String password) {
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (RuntimeException e) {
            String msg = String.valueOf(e.getMessage()) + " " + String.valueOf(e.getCause());
            if (!msg.toLowerCase().contains("same")) {
                throw e;
            }
            // Restart with the same password: "Old password and new password cannot be the same".
            // Still make sure the change-required flag is off.
            system.executeTransactionally("ALTER USER neo4j SET PASSWORD CHANGE NOT REQUIRED");
            System.out.println("NEO4J password unchanged (already set)");
        }
    }

    private static long parseBytes(String s) {
        String v = s.trim().toLowerCase();
        long mul = 1;
        char last = v.charAt(v.length() - 1);
        if (Character.isLetter(last)) {
            mul = switch (last) {
                case 'k' -> 1024L;
                case 'm' -> 1024L * 1024;
                case 'g' -> 1024L * 1024 * 1024;
                default -> throw new IllegalArgumentException("bad size: " + s);
            };
            v = v.substring(0, v.length() - 1);
        }
        return Long.parseLong(v) * mul;
    }

    private static String need(String[] args, int i, String flag) {
        if (i >= args.length) {
            die("missing value for " + flag);
        }
        return args[i];
    }

    private static void die(String msg) {
        System.err.println("neo4j launcher: " + msg);
        System.exit(2);
    }
}
