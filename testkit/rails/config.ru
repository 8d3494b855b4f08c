# A stock Rails Action Cable server with the AnalyticsChannel of the original request, for the
# interop tests: the hub's conformance suite runs against it, and so does the desktop client.
# Run with: INTEROP_TOKEN=... puma -b tcp://127.0.0.1:PORT config.ru
# POST /control/broadcast broadcasts its JSON body on "analytics"; POST /control/restart calls
# ActionCable.server.restart.
require "json"
require "logger"
require "rails"
require "action_controller/railtie"
require "action_cable/engine"

class InteropApp < Rails::Application
  config.eager_load = false
  config.logger = Logger.new($stderr, level: Logger::WARN)
  config.secret_key_base = "interop-tests-only"
  config.hosts.clear
  config.action_cable.disable_request_forgery_protection = true
  config.action_cable.cable = { "adapter" => "async" }
end

module ApplicationCable
  class Connection < ActionCable::Connection::Base
    identified_by :token

    # With INTEROP_TOKEN set, a connection must present it as a Bearer header or ?token=.
    def connect
      expected = ENV.fetch("INTEROP_TOKEN", "")
      return if expected.empty?

      presented = request.params[:token] || request.authorization.to_s.sub(/\ABearer /, "")
      reject_unauthorized_connection unless presented == expected
      self.token = presented
    end
  end

  class Channel < ActionCable::Channel::Base
  end
end

# The channel as the original request gives it; INTEROP_REJECT=1 makes it refuse subscribers, to
# test a client's handling of reject_subscription.
class AnalyticsChannel < ApplicationCable::Channel
  def subscribed
    return reject if ENV["INTEROP_REJECT"] == "1"

    stream_from "analytics"
  end

  def unsubscribed
    stop_all_streams
  end
end

InteropApp.initialize!

control = lambda do |env|
  request = Rack::Request.new(env)
  case request.path_info
  when "/broadcast"
    ActionCable.server.broadcast("analytics", JSON.parse(request.body.read))
  when "/restart"
    ActionCable.server.restart
  else
    next [404, {}, []]
  end
  [204, {}, []]
end

map("/cable") { run ActionCable.server }
map("/control") { run control }
