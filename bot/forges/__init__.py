"""GitLab, GitHub and plain git hosts behind one interface (`local`, `gitlab`, `github`), and
what arrives from the forges: comment events and the text people wrote. No host library is
imported by the interface modules, so the web process reads `forge.ReplyTarget` cheaply."""
