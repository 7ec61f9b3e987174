"""The Kubernetes manifests under ``k8s/``, offline: render the kustomize overlays and check what they render.

``render`` builds an overlay with the real kustomize (its Go API, through ``pykustomize``), ``schema``
validates objects against the bundled Kubernetes JSON schemas (``kubernetes-validate``), ``podsecurity``
checks each pod against the Pod Security level its namespace enforces, ``checks`` holds our own rules
(namespaces, probes, resources, references, env names, seccomp profiles), ``seccomp`` builds the scorer
worker's Localhost seccomp profile and ``netpol`` answers "may this pod open that connection?" from the
rendered NetworkPolicies, across namespaces.
"""
