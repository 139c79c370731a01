// The JDK as a reference for x509-idp's renderings (Keycloak runs on it). Reads commands on stdin, one per line:
//   name <hex DER of a Name>       → {"legacy","rfc2253","canonical","rfc1779"}  (legacy = getSubjectDN().toString())
//   serial <hex of INTEGER content> → {"decimal","hex"}                          (BigInteger, Keycloak's hex)
//   cert <hex DER of a certificate> → {"subjectLegacy","subjectCanonical","subjectRfc2253", the same for the issuer,
//                                   "serialDecimal","serialHex","sha256","pem","sanEmails"}  (X509Certificate, as
//                                   Keycloak reads it: getSubjectDN(), getSubjectX500Principal(), getSerialNumber(),
//                                   getSubjectAlternativeNames() type 1; sanEmails joined by "\n")
//   regex <base64 pattern> <base64 input> → {"groups", "found", "group1", "start", "end"}
//                                   (Pattern.compile(p, CASE_INSENSITIVE) and Matcher.find(), as Keycloak does)
// and writes one JSON object per line; non-ASCII characters are written as \\uXXXX escapes.
import javax.security.auth.x500.X500Principal;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class JdkOracle {
    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        HexFormat hex = HexFormat.of();
        for (String line; (line = in.readLine()) != null; ) {
            String[] parts = line.trim().split(" ", 2);
            if (parts.length != 2) continue;
            try {
                if (parts[0].equals("regex")) {
                    String[] args2 = parts[1].split(" ", -1);
                    String pattern = new String(Base64.getDecoder().decode(args2[0]), "UTF-8");
                    String input = new String(Base64.getDecoder().decode(args2.length > 1 ? args2[1] : ""), "UTF-8");
                    Matcher m = Pattern.compile(pattern, Pattern.CASE_INSENSITIVE).matcher(input);
                    int groups = m.groupCount();
                    if (m.find()) {
                        String g = groups >= 1 ? m.group(1) : null;
                        System.out.println("{\"groups\":" + groups + ",\"found\":true,\"start\":" + m.start() + ",\"end\":" + m.end()
                            + ",\"group1\":" + (g == null ? "null" : json(g)) + "}");
                    } else {
                        System.out.println("{\"groups\":" + groups + ",\"found\":false}");
                    }
                    continue;
                }
                byte[] der = hex.parseHex(parts[1]);
                if (parts[0].equals("name")) {
                    X500Principal p = new X500Principal(der);
                    String legacy = new sun.security.x509.X500Name(der).toString();
                    System.out.println("{\"legacy\":" + json(legacy) + ",\"rfc2253\":" + json(p.getName())
                        + ",\"canonical\":" + json(p.getName(X500Principal.CANONICAL))
                        + ",\"rfc1779\":" + json(p.getName(X500Principal.RFC1779)) + "}");
                } else if (parts[0].equals("cert")) {
                    X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
                    List<String> emails = new ArrayList<>();
                    Collection<List<?>> sans = c.getSubjectAlternativeNames();
                    if (sans != null) for (List<?> san : sans) if (((Integer) san.get(0)) == 1) emails.add((String) san.get(1));
                    System.out.println("{\"subjectLegacy\":" + json(c.getSubjectDN().toString())
                        + ",\"subjectCanonical\":" + json(c.getSubjectX500Principal().getName(X500Principal.CANONICAL))
                        + ",\"subjectRfc2253\":" + json(c.getSubjectX500Principal().getName())
                        + ",\"issuerLegacy\":" + json(c.getIssuerDN().toString())
                        + ",\"issuerCanonical\":" + json(c.getIssuerX500Principal().getName(X500Principal.CANONICAL))
                        + ",\"issuerRfc2253\":" + json(c.getIssuerX500Principal().getName())
                        + ",\"serialDecimal\":" + json(c.getSerialNumber().toString())
                        + ",\"serialHex\":" + json(hex.formatHex(c.getSerialNumber().toByteArray()))
                        + ",\"sha256\":" + json(hex.formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded())))
                        + ",\"pem\":" + json(Base64.getEncoder().encodeToString(c.getEncoded()))
                        + ",\"sanEmails\":" + json(String.join("\n", emails)) + "}");
                } else if (parts[0].equals("serial")) {
                    BigInteger n = new BigInteger(der);
                    System.out.println("{\"decimal\":" + json(n.toString()) + ",\"hex\":" + json(hex.formatHex(n.toByteArray())) + "}");
                } else {
                    System.out.println("{\"error\":\"unknown command\"}");
                }
            } catch (Exception e) {
                System.out.println("{\"error\":" + json(e.getClass().getSimpleName() + ": " + e.getMessage()) + "}");
            }
        }
    }
}
