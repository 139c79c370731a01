// AWS Application Load Balancer mutual TLS: in passthrough mode `X-Amzn-Mtls-Clientcert` holds the whole chain the
// client sent (URL-encoded PEM, leaf first, "+", "=" and "/" left as they are); in verify mode
// `X-Amzn-Mtls-Clientcert-Leaf` holds the leaf alone. The ALB's descriptive fields (serial, issuer, subject, validity)
// are never used: x509-idp reads the certificate itself. Keycloak has no such lookup (issue #25579).
import type { Certificate } from "../certificate.ts";
import { certificateIn, certificatesIn, runLookup, single, urlDecoded, type CertificateLookup, type HeaderFields } from "./lookup.ts";
import type { LookupOptions } from "./options.ts";

const DESCRIPTIVE = ["x-amzn-mtls-clientcert-serial-number", "x-amzn-mtls-clientcert-issuer", "x-amzn-mtls-clientcert-subject", "x-amzn-mtls-clientcert-validity"];

export function awsAlbLookup(o: LookupOptions): CertificateLookup {
  const chainHeader = o.headers["ssl-client-cert"] as string;
  const leafHeader = o.headers["ssl-client-cert-leaf"];
  const read = (fields: HeaderFields): Certificate[] | undefined => {
    const chain = single(fields, chainHeader);
    if (chain !== undefined) return certificatesIn(urlDecoded(chain, chainHeader), chainHeader, o.chainLength + 1);
    const leaf = leafHeader === undefined ? undefined : single(fields, leafHeader);
    if (leaf === undefined || leafHeader === undefined) return undefined;
    return [certificateIn(urlDecoded(leaf, leafHeader), leafHeader)];
  };
  return { id: "aws-alb", headers: [chainHeader, ...(leafHeader ? [leafHeader] : []), ...DESCRIPTIVE], lookup: (fields) => runLookup(read, fields) };
}
