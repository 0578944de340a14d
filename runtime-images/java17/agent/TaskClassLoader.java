package io.hearth.agent;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The function's classes, in Lambda's layout for a zip: the code directory
 * itself (classes and resources at the root), then {@code lib/*.jar}, then
 * {@code *.jar} at the root, each set in name order. Its parent is the
 * application class loader, which holds Hearth's lambda-core jar: as on
 * Lambda, a copy of aws-lambda-java-core bundled in the function is shadowed
 * by the runtime's own, so RequestHandler and Context are the classes the
 * agent knows.
 */
final class TaskClassLoader {
    private TaskClassLoader() {
    }

    static URLClassLoader create(String codeDir) throws MalformedURLException {
        File root = new File(codeDir);
        List<URL> urls = new ArrayList<>();
        urls.add(root.toURI().toURL());
        urls.addAll(jars(new File(root, "lib")));
        urls.addAll(jars(root));
        // Unnamed, so stack frames read "example.Handler.run(...)" as on Lambda, not "name//example...".
        return new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getSystemClassLoader());
    }

    private static List<URL> jars(File dir) throws MalformedURLException {
        File[] files = dir.listFiles((d, name) -> name.endsWith(".jar"));
        List<URL> urls = new ArrayList<>();
        if (files == null) return urls;
        Arrays.sort(files);
        for (File file : files) {
            if (file.isFile()) urls.add(file.toURI().toURL());
        }
        return urls;
    }
}
