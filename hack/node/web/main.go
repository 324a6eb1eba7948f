// Command web is the node test's stand-in for the walkthrough's nginx: an
// HTTP server on :80 (or $PORT) answering every request with the host name.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "80"
	}
	host, _ := os.Hostname()
	s := &http.Server{Addr: ":" + port, ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	})}
	log.Fatal(s.ListenAndServe())
}
