// Runs `kafka-storage` (kafka.tools.StorageTool) once per line of a file, in one JVM.
// Each input line holds the tool's arguments separated by tabs; each output line is
// "ok" or "fail <exit code or error>". One JVM for hundreds of formats keeps the test quick.

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import kafka.tools.StorageTool;
import org.apache.kafka.common.utils.Exit;

public class FormatMany {
    static final class Exited extends RuntimeException {
        Exited(int code, String message) {
            super("exit " + code + (message == null ? "" : ": " + message));
        }
    }

    public static void main(String[] args) throws Exception {
        // The tool calls Exit on a bad command line: turn that into an error of this one line.
        Exit.setExitProcedure((code, message) -> { throw new Exited(code, message); });
        Exit.setHaltProcedure((code, message) -> { throw new Exited(code, message); });
        List<String> lines = Files.readAllLines(Path.of(args[0]));
        for (String line : lines) {
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            String outcome;
            try {
                int code = StorageTool.execute(line.split("\t"), new PrintStream(captured, true));
                outcome = code == 0 ? "ok" : "fail exit " + code;
            } catch (Throwable error) {
                outcome = "fail " + String.valueOf(error.getMessage()).replace('\n', ' ');
            }
            System.out.println(outcome);
        }
    }
}
